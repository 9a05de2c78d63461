// Regressions for echoes the fuzzer found: gRPC health Check named the unknown service it was asked
// about in its NOT_FOUND status. Input never comes back in an answer (the contract's
// `provider <name> not supported`, reduced to [\w.-]{0,32}, is the one documented exception).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { createGrpcTestClient } from "../support/grpc-client.ts";
import { driversFor, type Drivers } from "./support.ts";

const SENTINEL = "ECH0S3NT1NEL";
let server: TestServer;
let d: Drivers;
beforeAll(async () => {
  server = await startTestServer();
  d = driversFor(server);
});
afterAll(async () => {
  d.close();
  await server.stop();
});

test("gRPC health Check for an unknown service: NOT_FOUND without the name", async () => {
  const client = createGrpcTestClient(Number(server.grpcAddress.split(":").at(-1)));
  try {
    const err = await client.healthCheck(`${SENTINEL}.Service`).then(
      () => null,
      (e: { code: number; details: string }) => e,
    );
    expect(err?.code).toBe(5);
    expect(err?.details).toBe("unknown service");
  } finally {
    client.close();
  }
});

test("the provider echo is reduced to [\\w.-]{0,32}", async () => {
  for (const t of ["rest", "grpc"] as const) {
    const r = await d[t].call("GetOAuthAuthorizationURL", { provider: `<script>${"x".repeat(40)}${SENTINEL}`, redirectUrl: "https://a.example/cb" });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/^provider [\w.-]{0,32} not supported$/);
      expect(r.message).not.toContain(SENTINEL);
      expect(r.message).not.toContain("<");
    }
  }
});
