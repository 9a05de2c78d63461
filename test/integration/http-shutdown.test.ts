// stop(graceMs): in-flight requests finish, new connections are refused, stragglers are cut at graceMs.
import { expect, test } from "bun:test";
import { createHttpServer } from "../../src/transports/http/server.ts";
import { createFakeServices, createHttpClient, sequentialRequestIds, silentLogger, testConfig } from "../support/http-client.ts";

const start = async () => {
  const fake = createFakeServices();
  const server = createHttpServer({ api: fake.api, health: fake.health, config: testConfig(), logger: silentLogger(), newRequestId: sequentialRequestIds() });
  const { port } = await server.start();
  return { fake, server, port, client: createHttpClient(`http://127.0.0.1:${port}`) };
};

test("an in-flight request finishes during a graceful stop", async () => {
  const { fake, server, client } = await start();
  fake.setDelay(200);
  const inFlight = client.post("/api/password/login", { email: "a@b.c", password: "pw" });
  await Bun.sleep(50);
  await server.stop(5000);
  expect((await inFlight).status).toBe(200);
  await expect(client.get("/healthz")).rejects.toThrow();
});

test("stop does not wait past graceMs", async () => {
  const { fake, server, client } = await start();
  fake.setDelay(10_000);
  const inFlight = client.post("/api/password/login", {}).catch((e: unknown) => e);
  await Bun.sleep(50);
  const t0 = performance.now();
  await server.stop(200);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(await inFlight).toBeInstanceOf(Error);
});
