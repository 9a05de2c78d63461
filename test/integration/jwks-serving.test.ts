// GET /api/.well-known/jwks.json in its two modes, over a real socket: served natively by Bun's router
// (the default: no JavaScript per request, so no access-log line, metrics or request id) and by the
// JavaScript endpoint (log.jwks_requests = true, or CORS on): same document, ETag and 304 either way.
import { afterAll, describe, expect, test } from "bun:test";
import { createMetrics } from "../../src/services/metrics.ts";
import { createHttpServer, type HttpServer } from "../../src/transports/http/server.ts";
import type { JwksResult } from "../../src/services/api.ts";
import { createFakeServices, createHttpClient, JWKS_BODY, JWKS_ETAG, sequentialRequestIds, silentLogger, testConfig } from "../support/http-client.ts";

const PATH = "/api/.well-known/jwks.json";
const servers: HttpServer[] = [];

const start = async (over: Parameters<typeof testConfig>[0] = {}) => {
  const fake = createFakeServices();
  const logger = silentLogger();
  const metrics = createMetrics();
  const server = createHttpServer({ api: fake.api, health: fake.health, config: testConfig(over), logger, metrics, newRequestId: sequentialRequestIds() });
  servers.push(server);
  const { port } = await server.start();
  const base = `http://127.0.0.1:${port}`;
  return { fake, logger, metrics, base, client: createHttpClient(base) };
};

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(100)));
});

const accessLines = (logger: ReturnType<typeof silentLogger>) => logger.lines.filter((l) => l.msg === "http request");
const jwksSeries = (metrics: ReturnType<typeof createMetrics>) =>
  metrics.registry
    .render()
    .split("\n")
    .filter((l) => l.startsWith("identra_") && l.includes(`route="${PATH}"`));

const rotated: JwksResult = {
  keys: [{ kty: "OKP", alg: "EdDSA", use: "sig", kid: "rotated-kid", crv: "Ed25519", x: "xxx" } as never],
  body: JSON.stringify({ keys: [{ kid: "rotated-kid" }] }),
  etag: '"rotated-etag"',
};

const modes = [
  { name: "native (default)", over: {}, logged: false },
  { name: "JavaScript (log.jwks_requests = true)", over: { log: { jwksRequests: true } }, logged: true },
] as const;

for (const mode of modes) {
  describe(`JWKS ${mode.name}`, async () => {
    const s = await start(mode.over);

    test("the document with its content type, ETag, public caching and the security headers", async () => {
      const r = await s.client.get(PATH);
      expect(r.status).toBe(200);
      expect(r.text).toBe(JWKS_BODY);
      expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(r.headers.get("etag")).toBe(JWKS_ETAG);
      expect(r.headers.get("cache-control")).toBe("public, max-age=3600");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    });

    test("304 for the current ETag, strong, weak or in a list; 200 for another", async () => {
      for (const inm of [JWKS_ETAG, `W/${JWKS_ETAG}`, `"a", ${JWKS_ETAG}`]) {
        const r = await s.client.get(PATH, { "if-none-match": inm });
        expect({ inm, status: r.status, body: r.text }).toEqual({ inm, status: 304, body: "" });
        expect(r.headers.get("etag")).toBe(JWKS_ETAG);
      }
      const other = await s.client.get(PATH, { "if-none-match": '"stale"' });
      expect(other.status).toBe(200);
      expect(other.text).toBe(JWKS_BODY);
    });

    test("HEAD has the headers and no body; other methods get the contract's 404", async () => {
      const head = await fetch(s.base + PATH, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("etag")).toBe(JWKS_ETAG);
      expect(await head.text()).toBe("");
      const post = await s.client.post(PATH, {});
      expect(post.status).toBe(404);
      expect(post.json).toMatchObject({ code: 5, details: [{ reason: "NOT_FOUND" }] });
    });

    test("a query string does not change the answer", async () => {
      const r = await s.client.get(`${PATH}?x=1`);
      expect(r.status).toBe(200);
      expect(r.text).toBe(JWKS_BODY);
    });

    test(mode.logged ? "each request is access-logged, counted and carries a request id" : "requests are neither access-logged nor counted, and other routes still are", async () => {
      const before = accessLines(s.logger).length;
      const r = await s.client.get(PATH, { "x-request-id": "jwks-trace-1" });
      await s.client.get(PATH, { "if-none-match": JWKS_ETAG });
      await s.client.get("/healthz");
      const lines = accessLines(s.logger).slice(before);
      if (mode.logged) {
        expect(r.headers.get("x-request-id")).toBe("jwks-trace-1");
        expect(lines.map((l) => l.fields)).toMatchObject([
          { method: "GET", route: PATH, status: 200, requestId: "jwks-trace-1" },
          { method: "GET", route: PATH, status: 304 },
          { method: "GET", route: "/healthz", status: 200 },
        ]);
        expect(jwksSeries(s.metrics).some((l) => l.includes('code="304"'))).toBe(true);
      } else {
        expect(r.headers.get("x-request-id")).toBeNull();
        expect(lines.map((l) => l.fields?.route)).toEqual(["/healthz"]);
        expect(jwksSeries(s.metrics)).toEqual([]);
      }
    });

    test("a key ring change is served from the next request on", async () => {
      s.fake.setJwks(rotated);
      const r = await s.client.get(PATH);
      expect(r.text).toBe(rotated.body);
      expect(r.headers.get("etag")).toBe(rotated.etag);
      expect((await s.client.get(PATH, { "if-none-match": rotated.etag })).status).toBe(304);
      expect((await s.client.get(PATH, { "if-none-match": JWKS_ETAG })).status).toBe(200);
    });
  });
}

describe("JWKS with CORS on", async () => {
  // CORS headers depend on the Origin, so the JavaScript endpoint answers even without log.jwks_requests.
  const s = await start({ cors: { allowedOrigins: ["https://app.example"] } });

  test("a listed Origin gets its CORS headers on the document", async () => {
    const r = await s.client.get(PATH, { origin: "https://app.example" });
    expect(r.status).toBe(200);
    expect(r.text).toBe(JWKS_BODY);
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(r.headers.get("vary")).toBe("Origin");
    const other = await s.client.get(PATH, { origin: "https://evil.example" });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("JWKS when the document cannot be read (JavaScript endpoint)", async () => {
  const s = await start({ log: { jwksRequests: true } });

  test("the contract's error shape, logged, with the request id and without details", async () => {
    s.fake.failWith("getJwks", new Error("ring exploded: secret detail"));
    const r = await s.client.get(PATH, { "x-request-id": "jwks-fail" });
    s.fake.failWith("getJwks", null);
    expect(r.status).toBe(500);
    expect(r.text).not.toContain("secret detail");
    expect(r.headers.get("x-request-id")).toBe("jwks-fail");
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(s.logger.lines.some((l) => l.level === "error" && l.fields?.requestId === "jwks-fail")).toBe(true);
  });
});
