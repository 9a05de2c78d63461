// Oversize input: REST bodies beyond http.max_body_bytes (declared, chunked, and far beyond), huge
// headers and URLs; gRPC messages beyond the limit and huge metadata. Each gets a clean 4xx/contract
// error without echoing the input, and the server keeps answering afterwards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpcJs from "@grpc/grpc-js";
import { connect } from "node:net";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { createGrpcClient } from "../support/rpc-driver.ts";
import { driversFor, freshEmail, type Drivers } from "./support.ts";

const MAX = 4096;
const SENTINEL = "0VERS1ZE-S3NT1NEL";
let server: TestServer;
let d: Drivers;

beforeAll(async () => {
  server = await startTestServer({ env: { IDENTRA_HTTP_MAX_BODY_BYTES: String(MAX) } });
  d = driversFor(server);
});

afterAll(async () => {
  d.close();
  await server.stop();
});

/** A correct login works on both transports (the server is healthy). */
const stillHealthy = async () => {
  const email = freshEmail("healthy");
  for (const t of ["rest", "grpc"] as const) expect((await d[t].call("LoginByPassword", { email, password: "healthy-password" })).ok).toBe(true);
  expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
};

const bigJson = (bytes: number) => JSON.stringify({ email: "a@b.co", password: SENTINEL + "x".repeat(bytes) });

describe("REST bodies beyond http.max_body_bytes", () => {
  test("declared Content-Length beyond the limit → 400 INVALID_ARGUMENT, no echo", async () => {
    const res = await fetch(`${server.httpUrl}/api/password/login`, { method: "POST", headers: { "content-type": "application/json" }, body: bigJson(MAX) });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ code: 3, message: `request body too large (limit ${MAX} bytes)` });
    expect(text).not.toContain(SENTINEL);
    await stillHealthy();
  });

  test("chunked body (no Content-Length) beyond the limit → 400 INVALID_ARGUMENT, no echo", async () => {
    const chunk = new TextEncoder().encode(SENTINEL + "y".repeat(1000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ > 20) c.close();
        else c.enqueue(chunk);
      },
    });
    const res = await fetch(`${server.httpUrl}/api/token/refresh`, { method: "POST", headers: { "content-type": "application/json" }, body: stream });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(JSON.parse(text).message).toBe(`request body too large (limit ${MAX} bytes)`);
    expect(text).not.toContain(SENTINEL);
    await stillHealthy();
  });

  test("a 20 MB body is cut off early, not buffered", async () => {
    const res = await fetch(`${server.httpUrl}/api/email/code`, { method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array(20 * 1024 * 1024).fill(0x61) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(3);
    await stillHealthy();
  });

  test("a Content-Length that lies (says small, sends more) never leaks into the next request", async () => {
    // Raw socket: declared 10 bytes, then more; the server reads 10 and the rest is garbage for HTTP.
    const port = Number(new URL(server.httpUrl).port);
    const reply = await new Promise<string>((resolve) => {
      const sock = connect(port, "127.0.0.1", () => {
        sock.write(`POST /api/token/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a":"${SENTINEL}"}GET /x HTTP/1.1\r\n\r\n`);
      });
      let out = "";
      sock.on("data", (b) => (out += b.toString()));
      sock.on("error", () => resolve(out));
      sock.on("close", () => resolve(out));
      setTimeout(() => sock.end(), 500);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect(reply).not.toContain(SENTINEL);
    expect(reply).not.toMatch(/HTTP\/1\.1 5\d\d/);
    await stillHealthy();
  });

  test("huge headers and URLs → a 4xx from the server, never a 5xx", async () => {
    const huge = SENTINEL + "h".repeat(200_000);
    const statuses: number[] = [];
    for (const init of [
      { url: `${server.httpUrl}/api/oauth/url?provider=${huge}`, init: {} },
      { url: `${server.httpUrl}/api/me/login-info`, init: { method: "POST", headers: { authorization: `Bearer ${huge}` } } },
      { url: `${server.httpUrl}/api/password/login`, init: { method: "POST", headers: { "x-custom": huge, "content-type": "application/json" }, body: "{}" } },
      { url: `${server.httpUrl}/api/password/login`, init: { method: "POST", headers: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h-${i}`, "v".repeat(100)])), body: "{}" } },
    ]) {
      const res = await fetch(init.url, init.init as RequestInit).catch(() => null);
      if (res) {
        statuses.push(res.status);
        expect(await res.text()).not.toContain(SENTINEL);
      }
    }
    for (const s of statuses) {
      expect(s).toBeGreaterThanOrEqual(400);
      expect(s).toBeLessThan(500);
    }
    await stillHealthy();
  });
});

describe("gRPC messages and metadata beyond the limits", () => {
  const call = (client: grpcJs.Client & Record<string, any>, rpc: string, req: object, md = new grpcJs.Metadata()) =>
    new Promise<{ err: grpcJs.ServiceError | null }>((resolve) => client[rpc](req, md, { deadline: Date.now() + 10_000 }, (err: grpcJs.ServiceError | null) => resolve({ err })));

  test("a message beyond http.max_body_bytes → RESOURCE_EXHAUSTED, no echo, server healthy", async () => {
    const client = createGrpcClient(server.grpcAddress);
    try {
      const { err } = await call(client, "LoginByPassword", { email: "a@b.co", password: SENTINEL + "p".repeat(MAX * 2) });
      expect(err?.code).toBe(grpcJs.status.RESOURCE_EXHAUSTED);
      expect(err?.details).not.toContain(SENTINEL);
      const { err: err2 } = await call(client, "LoginByPassword", { email: "a@b.co", password: "p".repeat(MAX * 100) });
      expect(err2?.code).toBe(grpcJs.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
    await stillHealthy();
  });

  test("huge metadata (a 1 MB header, 1,000 entries) → a clean error, server healthy", async () => {
    for (const md of [
      (() => {
        const m = new grpcJs.Metadata();
        m.set("authorization", `Bearer ${SENTINEL}${"t".repeat(1024 * 1024)}`);
        return m;
      })(),
      (() => {
        const m = new grpcJs.Metadata();
        for (let i = 0; i < 1000; i++) m.set(`x-h-${i}`, "v".repeat(100));
        return m;
      })(),
    ]) {
      const client = createGrpcClient(server.grpcAddress);
      try {
        const { err } = await call(client, "GetCurrentUserLoginInfo", {}, md);
        expect(err).not.toBeNull();
        // grpc-js refuses oversize metadata with RESOURCE_EXHAUSTED / INTERNAL from the HTTP/2 layer
        // (the call never reaches a handler); what matters: an error, no echo, no crash.
        expect(String(err?.details)).not.toContain(SENTINEL);
      } finally {
        client.close();
      }
    }
    await stillHealthy();
  });

  test("a 9 KB bearer token in metadata reaches the handler and is refused as invalid", async () => {
    const r = await d.grpc.call("GetCurrentUserLoginInfo", {}, { bearer: "a".repeat(9 * 1024) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe("invalid access token");
  });
});
