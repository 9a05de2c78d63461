// REST transport over a real socket with a fake IdentraApi: routes and canonical JSON, both casings,
// bad input without echo, error mapping, JWKS caching, CORS, headers, request ids, health, docs.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import openApiDocument from "../../generated/openapi.json";
import { AppError } from "../../src/domain/errors.ts";
import { createHttpServer, type HttpServer } from "../../src/transports/http/server.ts";
import {
  createFakeServices,
  createHttpClient,
  FIXED_TOKEN_PAIR,
  JWKS_BODY,
  JWKS_ETAG,
  sequentialRequestIds,
  silentLogger,
  testConfig,
} from "../support/http-client.ts";

const SENTINEL = "S3NT1NEL-pa55w0rd-do-not-echo";
const servers: HttpServer[] = [];

const start = async (over: Parameters<typeof testConfig>[0] = {}) => {
  const fake = createFakeServices();
  const logger = silentLogger();
  const server = createHttpServer({ api: fake.api, health: fake.health, config: testConfig(over), logger, newRequestId: sequentialRequestIds() });
  servers.push(server);
  const { port } = await server.start();
  return { fake, logger, client: createHttpClient(`http://127.0.0.1:${port}`), port };
};

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop(100)));
});

const { fake, logger, client } = await start();
beforeEach(() => fake.reset());

const TOKEN_JSON = {
  accessToken: { token: FIXED_TOKEN_PAIR.accessToken.token, expiresAt: "1750000900" },
  refreshToken: { token: FIXED_TOKEN_PAIR.refreshToken.token, expiresAt: "1750604800" },
  tokenType: "Bearer",
};
const lastCall = () => fake.calls.at(-1);
const errorBody = (code: number, message: string, reason: string) => ({
  code,
  message,
  details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "identra" }],
});

describe("routes and canonical JSON", () => {
  test("GET /api/.well-known/jwks.json returns the service's serialised body", async () => {
    const r = await client.get("/api/.well-known/jwks.json");
    expect(r.status).toBe(200);
    expect(r.text).toBe(JWKS_BODY);
    expect(r.headers.get("etag")).toBe(JWKS_ETAG);
    expect(r.headers.get("cache-control")).toBe("public, max-age=3600");
  });

  test("JWKS answers 304 on a matching If-None-Match", async () => {
    const r = await client.get("/api/.well-known/jwks.json", { "if-none-match": JWKS_ETAG });
    expect(r.status).toBe(304);
    expect(r.text).toBe("");
    expect(r.headers.get("etag")).toBe(JWKS_ETAG);
    const other = await client.get("/api/.well-known/jwks.json", { "if-none-match": '"other"' });
    expect(other.status).toBe(200);
  });

  test("GET /api/oauth/url accepts redirect_url and redirectUrl", async () => {
    for (const q of ["redirect_url", "redirectUrl"]) {
      const r = await client.get(`/api/oauth/url?provider=github&${q}=https%3A%2F%2Fapp%2Fcb`);
      expect(r.json).toEqual({ url: "https://github.example/authorize?state=s1", state: "s1" });
      expect(lastCall()?.req).toEqual({ provider: "github", redirectUrl: "https://app/cb" });
    }
  });

  test("POST /api/oauth/login emits every plain field, empty ones too", async () => {
    const r = await client.post("/api/oauth/login", { code: "c", state: "s", unknown_key: 1 });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ token: TOKEN_JSON, username: "octo", avatarUrl: "", email: "o@example.com" });
    expect(lastCall()?.req).toEqual({ code: "c", state: "s" });
  });

  test("POST /api/oauth/bind passes the bearer header and the body token", async () => {
    for (const key of ["access_token", "accessToken"]) {
      const r = await client.post("/api/oauth/bind", { [key]: "body-tok", code: "c", state: "s" }, { authorization: "Bearer hdr-tok" });
      expect(r.json).toEqual({ token: TOKEN_JSON, username: "octo", avatarUrl: "https://a/x.png" });
      expect(lastCall()?.req).toEqual({ accessToken: "body-tok", code: "c", state: "s" });
      expect(lastCall()?.ctx?.bearerToken).toBe("hdr-tok");
    }
  });

  test("POST /api/email/code answers {} and accepts use_html and useHtml", async () => {
    for (const key of ["use_html", "useHtml"]) {
      const r = await client.post("/api/email/code", { email: "a@b.c", [key]: true });
      expect(r.status).toBe(200);
      expect(r.text).toBe("{}");
      expect(lastCall()?.req).toEqual({ email: "a@b.c", useHtml: true });
    }
  });

  test.each([
    ["/api/email/login", { email: "a@b.c", code: "123456" }, { email: "a@b.c", code: "123456" }],
    ["/api/password/register", { email: "a@b.c", password: "pw" }, { email: "a@b.c", password: "pw" }],
    ["/api/password/login", { email: "a@b.c", password: "pw" }, { email: "a@b.c", password: "pw" }],
    ["/api/token/refresh", { refresh_token: "rt" }, { refreshToken: "rt" }],
    ["/api/token/refresh", { refreshToken: "rt" }, { refreshToken: "rt" }],
  ])("POST %s returns the token pair", async (path, body, expected) => {
    const r = await client.post(path, body);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ token: TOKEN_JSON });
    expect(lastCall()?.req).toEqual(expected);
  });

  test("POST /api/token/revoke answers {}", async () => {
    const r = await client.post("/api/token/revoke", { refreshToken: "rt" });
    expect(r.text).toBe("{}");
    expect(lastCall()?.req).toEqual({ refreshToken: "rt" });
  });

  test("GET /api/oauth/providers omits an unset optional reason", async () => {
    const r = await client.get("/api/oauth/providers");
    expect(r.json).toEqual({
      providers: [
        { name: "github", enabled: false, reason: "missing_client_id" },
        { name: "other", enabled: true },
      ],
    });
  });

  test("POST /api/me/login-info emits false and [] and omits githubId", async () => {
    const r = await client.post("/api/me/login-info", undefined, { authorization: "Bearer tok" });
    expect(r.json).toEqual({ userId: "6f1c9a4e-0000-4000-8000-000000000001", email: "u@example.com", passwordEnabled: false, oauthConnections: [] });
    expect(lastCall()?.ctx?.bearerToken).toBe("tok");
  });

  test("an empty string is unset, as in proto3", async () => {
    await client.post("/api/password/login", { email: "", password: "pw" });
    expect(lastCall()?.req).toEqual({ email: undefined, password: "pw" });
  });
});

describe("bad input: contract error body, never an echo", () => {
  const expectInvalid = (r: { status: number; text: string; json: unknown }, message: string) => {
    expect(r.status).toBe(400);
    expect(r.json).toEqual(errorBody(3, message, "INVALID_ARGUMENT"));
    expect(r.text).not.toContain(SENTINEL);
  };

  test("malformed JSON", async () => {
    const r = await client.send("POST", "/api/password/login", { raw: `{"email":"a","password":"${SENTINEL}"`, headers: { "content-type": "application/json" } });
    expectInvalid(r, "malformed JSON body");
  });

  test("wrong JSON types name the field", async () => {
    const r1 = await client.post("/api/password/login", { email: 5, password: SENTINEL });
    expectInvalid(r1, "invalid value for field email: expected a string");
    const r2 = await client.post("/api/email/code", { email: SENTINEL, use_html: "x" });
    expectInvalid(r2, "invalid value for field use_html: expected a boolean");
    const r3 = await client.post("/api/password/login", [SENTINEL]);
    expectInvalid(r3, "request body must be a JSON object");
    expect(fake.calls.length).toBe(0);
  });

  test("oversized body, with and without Content-Length", async () => {
    const small = await start({ http: { maxBodyBytes: 1024 } });
    const big = JSON.stringify({ email: "a@b.c", password: SENTINEL.repeat(200) });
    const r1 = await small.client.send("POST", "/api/password/login", { raw: big, headers: { "content-type": "application/json" } });
    expectInvalid(r1, "request body too large (limit 1024 bytes)");
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 50; i++) c.enqueue(enc.encode(SENTINEL.repeat(10)));
        c.close();
      },
    });
    const r2 = await small.client.send("POST", "/api/password/login", { raw: stream, headers: { "content-type": "application/json" } });
    expectInvalid(r2, "request body too large (limit 1024 bytes)");
    expect(small.fake.calls.length).toBe(0);
  });

  test("unknown route is 404 in the same shape", async () => {
    for (const [method, path] of [["GET", "/api/nope"], ["POST", "/api/password/nope"], ["GET", "/api/password/login"], ["GET", "/nope"]] as const) {
      const r = await client.send(method, path);
      expect(r.status).toBe(404);
      expect(r.json).toEqual(errorBody(5, "route not found", "NOT_FOUND"));
    }
  });
});

describe("error mapping", () => {
  test.each([
    ["INVALID_CREDENTIALS", "invalid credentials", 401, 16, "Bearer"],
    ["INVALID_ACCESS_TOKEN", "invalid access token", 401, 16, 'Bearer error="invalid_token"'],
    ["ACCESS_TOKEN_REQUIRED", "access token is required", 401, 16, "Bearer"],
    ["USER_EXISTS", "user already exists", 409, 6, null],
    ["USER_DISABLED", "user account is disabled", 403, 7, null],
    ["MAIL_DISABLED", "mail service is disabled", 400, 9, null],
    ["DEPENDENCY_UNAVAILABLE", "database unavailable", 503, 14, null],
  ] as const)("%s → %d", async (reason, message, status, code, wwwAuth) => {
    fake.failWith("*", new AppError(reason, message));
    const r = await client.post("/api/password/login", { email: "a@b.c", password: "pw" });
    expect(r.status).toBe(status);
    expect(r.json).toEqual(errorBody(code, message, reason));
    expect(r.headers.get("www-authenticate")).toBe(wwwAuth);
  });

  test("RATE_LIMITED → 429 with Retry-After", async () => {
    fake.failWith("*", new AppError("RATE_LIMITED", "too many failed attempts, please try again later", { retryAfterSeconds: 42 }));
    const r = await client.post("/api/password/login", { email: "a@b.c", password: "pw" });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("42");
    expect((r.json as { code: number }).code).toBe(8);
  });

  test("anything else is a generic 500, logged but never shown", async () => {
    fake.failWith("*", new Error(`db exploded ${SENTINEL}`));
    const r = await client.post("/api/password/login", { email: "a@b.c", password: "pw" });
    expect(r.status).toBe(500);
    expect(r.json).toEqual(errorBody(13, "internal error", "INTERNAL"));
    expect(r.text).not.toContain(SENTINEL);
    expect(logger.lines.some((l) => l.level === "error" && String(l.fields?.error).includes("db exploded"))).toBe(true);
  });
});

describe("headers, request ids, logs", () => {
  test("security headers and no-store on /api, public caching only on JWKS", async () => {
    for (const path of ["/api/oauth/providers", "/api/nope", "/healthz"]) {
      const r = await client.get(path);
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
    }
    expect((await client.get("/api/oauth/providers")).headers.get("cache-control")).toBe("no-store");
  });

  test("x-request-id is honoured when safe, else generated", async () => {
    expect((await client.get("/healthz", { "x-request-id": "abc-123._X" })).headers.get("x-request-id")).toBe("abc-123._X");
    for (const bad of ["bad id<script>", "x".repeat(129)]) {
      const id = (await client.get("/healthz", { "x-request-id": bad })).headers.get("x-request-id");
      expect(id).toMatch(/^req-\d+$/);
    }
    await client.post("/api/password/login", { email: "a@b.c" }, { "x-request-id": "trace-1" });
    expect(lastCall()?.ctx?.requestId).toBe("trace-1");
  });

  test("one access log line per request, without bodies or tokens", async () => {
    const before = logger.lines.length;
    await client.post("/api/password/login", { email: "a@b.c", password: SENTINEL }, { authorization: `Bearer ${SENTINEL}`, "x-request-id": "log-1" });
    const lines = logger.lines.slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({ method: "POST", route: "/api/password/login", status: 200, requestId: "log-1" });
    expect(typeof lines[0]?.fields?.durationMs).toBe("number");
    expect(JSON.stringify(lines)).not.toContain(SENTINEL);
  });

  test("client IP is the socket peer unless the peer is a trusted proxy", async () => {
    await client.post("/api/password/login", {}, { "x-forwarded-for": "203.0.113.9" });
    expect(lastCall()?.ctx?.clientIp).toBe("127.0.0.1");
    const proxied = await start({ http: { trustedProxies: ["127.0.0.0/8", "10.0.0.0/8"] } });
    await proxied.client.post("/api/password/login", {}, { "x-forwarded-for": "198.51.100.1, 203.0.113.9, 10.1.2.3" });
    expect(proxied.fake.calls.at(-1)?.ctx?.clientIp).toBe("203.0.113.9");
    await proxied.client.post("/api/password/login", {}, { "x-real-ip": "203.0.113.7" });
    expect(proxied.fake.calls.at(-1)?.ctx?.clientIp).toBe("203.0.113.7");
  });
});

describe("CORS", () => {
  test("listed origin echoed with credentials; others get nothing", async () => {
    const s = await start({ cors: { allowedOrigins: ["https://app.example"], allowCredentials: true } });
    const ok = await s.client.get("/api/oauth/providers", { origin: "https://app.example" });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    expect(ok.headers.get("vary")).toContain("Origin");
    const evil = await s.client.get("/api/oauth/providers", { origin: "https://evil.example" });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("* without credentials; never * with credentials", async () => {
    const open = await start({ cors: { allowedOrigins: ["*"], allowCredentials: false } });
    expect((await open.client.get("/healthz", { origin: "https://x.example" })).headers.get("access-control-allow-origin")).toBe("*");
    const creds = await start({ cors: { allowedOrigins: ["*"], allowCredentials: true } });
    const r = await creds.client.get("/healthz", { origin: "https://x.example" });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(r.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("preflight answers 204 with methods and headers", async () => {
    const s = await start({ cors: { allowedOrigins: ["https://app.example"], allowCredentials: false } });
    const r = await s.client.send("OPTIONS", "/api/password/login", {
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(r.headers.get("access-control-allow-methods")).toContain("POST");
    expect(r.headers.get("access-control-allow-headers")).toBe("Authorization, Content-Type, X-Request-Id");
    expect(s.fake.calls.length).toBe(0);
  });
});

describe("health and docs", () => {
  test("/healthz and /readyz", async () => {
    expect((await client.get("/healthz")).json).toEqual({ status: "ok" });
    expect((await client.get("/readyz")).status).toBe(200);
    fake.health.setReady(false);
    expect((await client.get("/readyz")).status).toBe(503);
  });

  test("Swagger UI page and its embedded assets, no CDN", async () => {
    const page = await client.get("/api/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain("/api/docs/swagger-ui-bundle.js");
    expect(page.text).not.toMatch(/https?:\/\//);
    const assets = [
      ["/api/docs/swagger-ui-bundle.js", "text/javascript", "swagger-ui-dist/swagger-ui-bundle.js"],
      ["/api/docs/swagger-ui-standalone-preset.js", "text/javascript", "swagger-ui-dist/swagger-ui-standalone-preset.js"],
      ["/api/docs/swagger-ui.css", "text/css", "swagger-ui-dist/swagger-ui.css"],
    ] as const;
    for (const [path, type, file] of assets) {
      const r = await client.get(path);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toContain(type);
      expect(r.text).toBe(await Bun.file(Bun.resolveSync(file, import.meta.dir)).text());
    }
    const init = await client.get("/api/docs/swagger-initializer.js");
    expect(init.text).toContain('"/api/openapi.json"');
  });

  test("/api/openapi.json is the generated document", async () => {
    const r = await client.get("/api/openapi.json");
    expect(r.status).toBe(200);
    expect(r.json).toEqual(openApiDocument);
  });
});
