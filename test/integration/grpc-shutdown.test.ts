// stop(graceMs): in-flight calls finish (tryShutdown), stragglers are cancelled at graceMs.
import { expect, test } from "bun:test";
import { createGrpcServer } from "../../src/transports/grpc/server.ts";
import { createGrpcTestClient } from "../support/grpc-client.ts";
import { createFakeServices, sequentialRequestIds, silentLogger, testConfig } from "../support/http-client.ts";

const start = async () => {
  const fake = createFakeServices();
  const server = createGrpcServer({ api: fake.api, health: fake.health, config: testConfig(), logger: silentLogger(), newRequestId: sequentialRequestIds() });
  const { port } = await server.start();
  return { fake, server, client: createGrpcTestClient(port) };
};

test("an in-flight call finishes during a graceful stop", async () => {
  const { fake, server, client } = await start();
  fake.setDelay(200);
  const inFlight = client.call("LoginByPassword", { email: "a@b.c", password: "pw" });
  await Bun.sleep(50);
  await server.stop(5000);
  expect((await inFlight).response.token).toBeDefined();
  client.close();
});

test("stop does not wait past graceMs", async () => {
  const { fake, server, client } = await start();
  fake.setDelay(10_000);
  const inFlight = client.call("LoginByPassword", {}).catch((e: unknown) => e);
  await Bun.sleep(50);
  const t0 = performance.now();
  await server.stop(200);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(((await inFlight) as { code: number }).code).toBeGreaterThan(0);
  client.close();
});
