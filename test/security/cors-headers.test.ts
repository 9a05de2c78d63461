// CORS (cors.allowed_origins, cors.allow_credentials) and the security headers of REST responses,
// against the real app: a listed origin is echoed (with Vary: Origin), others get no CORS headers,
// credentials are never combined with `*`, preflights answer 204; every response carries nosniff,
// no-referrer and frame DENY; /api answers are no-store except the JWKS (public cache) and the docs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createCorsPolicy } from "../../src/transports/http/cors.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";

const APP = "https://app.example";
const ADMIN = "https://admin.example";
const EVIL = "https://evil.example";

const servers: Record<string, TestServer> = {};
beforeAll(async () => {
  const start = (origins: string, credentials: boolean) =>
    startTestServer({ env: { IDENTRA_CORS_ALLOWED_ORIGINS: origins, IDENTRA_CORS_ALLOW_CREDENTIALS: String(credentials) } });
  [servers.listed, servers.wildcard, servers.listedNoCreds] = await Promise.all([
    start(`${APP},${ADMIN}`, true),
    start("*", false),
    start(APP, false),
  ]);
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
});

const get = (s: TestServer, path: string, headers: Record<string, string> = {}) => fetch(`${s.httpUrl}${path}`, { headers });
const post = (s: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const preflight = (s: TestServer, path: string, origin: string, method = "POST") =>
  fetch(`${s.httpUrl}${path}`, { method: "OPTIONS", headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization, content-type" } });

describe("CORS", () => {
  test("a listed origin is echoed with credentials and Vary: Origin, on success and on errors", async () => {
    for (const origin of [APP, ADMIN]) {
      for (const res of [await get(servers.listed!, "/api/oauth/providers", { origin }), await post(servers.listed!, "/api/password/login", {}, { origin })]) {
        expect(res.headers.get("access-control-allow-origin")).toBe(origin);
        expect(res.headers.get("access-control-allow-credentials")).toBe("true");
        expect(res.headers.get("vary")).toContain("Origin");
        expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
      }
    }
  });

  test("an unlisted origin gets no CORS headers (look-alikes, null, case and suffix tricks)", async () => {
    for (const origin of [EVIL, "null", "https://app.example.evil.example", "https://APP.example", "http://app.example", "https://app.example:443", `${APP}/`, "https://evilapp.example"]) {
      const res = await get(servers.listed!, "/api/oauth/providers", { origin });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      const pre = await preflight(servers.listed!, "/api/password/login", origin);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
      expect(pre.headers.get("access-control-allow-methods")).toBeNull();
    }
  });

  test("preflight from a listed origin: 204, methods, headers, max-age, credentials", async () => {
    const res = await preflight(servers.listed!, "/api/password/login", APP);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  test("`*` without credentials: `*`, never credentials", async () => {
    const res = await get(servers.wildcard!, "/api/oauth/providers", { origin: EVIL });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const pre = await preflight(servers.wildcard!, "/api/token/refresh", EVIL);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("credentials are never sent with `*`: the configuration refuses the combination at startup", async () => {
    for (const origins of ["*", `*,${APP}`]) {
      await expect(startTestServer({ env: { IDENTRA_CORS_ALLOWED_ORIGINS: origins, IDENTRA_CORS_ALLOW_CREDENTIALS: "true" } })).rejects.toThrow(
        /cors\.allow_credentials/,
      );
    }
    // And the policy itself, were it built with both, would still never answer `*` with credentials.
    const policy = createCorsPolicy({ allowedOrigins: ["*", APP], allowCredentials: true });
    expect(policy.headersFor(EVIL)["access-control-allow-origin"]).toBeUndefined();
    expect(policy.headersFor(APP)).toMatchObject({ "access-control-allow-origin": APP, "access-control-allow-credentials": "true" });
    expect(policy.preflight(EVIL).headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a listed origin without allow_credentials: echoed, no credentials header", async () => {
    const res = await get(servers.listedNoCreds!, "/api/oauth/providers", { origin: APP });
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("across every server and response, `*` and credentials never appear together", async () => {
    for (const s of Object.values(servers)) {
      for (const origin of [APP, EVIL, "null"]) {
        for (const res of [await get(s, "/api/oauth/providers", { origin }), await preflight(s, "/api/password/login", origin), await get(s, "/nope", { origin })]) {
          const both = res.headers.get("access-control-allow-origin") === "*" && res.headers.get("access-control-allow-credentials") !== null;
          expect(both).toBe(false);
        }
      }
    }
  });
});

describe("security headers", () => {
  const s = () => servers.listed!;
  const expectSecurityHeaders = (res: Response) => {
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  };

  test("on every kind of REST response: success, 4xx, 404, 429-style errors, preflight, health, metrics", async () => {
    const responses = [
      await get(s(), "/api/oauth/providers"),
      await post(s(), "/api/password/login", { email: "x" }),
      await post(s(), "/api/me/login-info", {}, { authorization: "Bearer nope" }),
      await get(s(), "/api/does-not-exist"),
      await get(s(), "/does-not-exist"),
      await fetch(`${s().httpUrl}/api/password/login`, { method: "POST", body: "{not json" }),
      await preflight(s(), "/api/password/login", APP),
      await get(s(), "/healthz"),
      await get(s(), "/readyz"),
      await get(s(), "/metrics"),
      await get(s(), "/api/.well-known/jwks.json"),
      await get(s(), "/api/docs"),
    ];
    for (const res of responses) expectSecurityHeaders(res);
  });

  test("/api answers are no-store, except the JWKS (public, max-age=3600) and the docs", async () => {
    for (const res of [
      await get(s(), "/api/oauth/providers"),
      await post(s(), "/api/password/login", { email: "a@b.co", password: "a-password-123" }),
      await post(s(), "/api/token/refresh", {}),
      await get(s(), "/api/nope"),
    ]) {
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    const jwks = await get(s(), "/api/.well-known/jwks.json");
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=3600");
    const etag = jwks.headers.get("etag")!;
    const notModified = await get(s(), "/api/.well-known/jwks.json", { "if-none-match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("cache-control")).toBe("public, max-age=3600");
    expectSecurityHeaders(notModified);
    expect((await get(s(), "/api/docs")).headers.get("cache-control")).toBe("no-cache");
    expect((await get(s(), "/api/openapi.json")).headers.get("cache-control")).toBe("no-cache");
  });

  test("a successful login's tokens are never cacheable, and error bodies are JSON (nosniff-safe)", async () => {
    const res = await post(s(), "/api/password/login", { email: `hdr-${Date.now()}@example.com`, password: "a-password-123" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const err = await get(s(), "/api/nope");
    expect(err.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });
});
