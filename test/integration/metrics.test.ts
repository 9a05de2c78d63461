// GET /metrics (Prometheus text format) on the REST port of the real app: after a login, a failed
// login, a rate-limited call and a refresh-token replay over both transports, the counters carry the
// right labels, and every request is counted and timed per transport and route/method.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { smtpEnv } from "../support/smtp-sink.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";

let server: TestServer;
let rest: Driver;
let grpc: Driver;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      IDENTRA_AUTH_REFRESH_REUSE_INTERVAL: "0s",
      IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "3",
    },
  });
  rest = restDriver(server.httpUrl);
  grpc = grpcDriver(server.grpcAddress);
});

afterAll(async () => {
  rest.close();
  grpc.close();
  await server.stop();
});

/** Parses the text format into samples keyed by name and canonical (sorted) label set. */
const canonical = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",")}}`;

const scrape = async (): Promise<{ text: string; contentType: string | null; value(name: string, labels: Record<string, string>): number }> => {
  const res = await fetch(`${server.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = JSON.parse(`"${v}"`);
    samples.set(canonical(m[1]!, labels), Number(m[3]));
  }
  return { text, contentType: res.headers.get("content-type"), value: (name, labels) => samples.get(canonical(name, labels)) ?? 0 };
};

describe("/metrics", () => {
  test("serves the Prometheus text format with HELP and TYPE lines", async () => {
    const m = await scrape();
    expect(m.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(m.text).toContain("# TYPE identra_requests_total counter");
    expect(m.text).toContain("# TYPE identra_request_duration_seconds histogram");
    expect(m.text).toContain("# TYPE identra_logins_total counter");
    expect(m.text).toContain("# TYPE identra_refresh_reuse_detected_total counter");
  });

  test("logins, failures, rate limits and refresh reuse show with their labels on both transports", async () => {
    const before = await scrape();
    const email = "metrics-user@example.com";
    const password = "correct horse battery";

    // A login (auto-register on first use) over REST, then a successful login over gRPC.
    const first = await rest.call("LoginByPassword", { email, password });
    expect(first.ok).toBe(true);
    expect((await grpc.call("LoginByPassword", { email, password })).ok).toBe(true);

    // Failed logins until the limit (3 here) trips: the next one is RESOURCE_EXHAUSTED.
    for (const d of [rest, grpc, rest]) {
      const r = await d.call("LoginByPassword", { email, password: "wrong password!" });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toBe("INVALID_CREDENTIALS");
    }
    const limitedRest = await rest.call("LoginByPassword", { email, password: "wrong password!" });
    const limitedGrpc = await grpc.call("LoginByPassword", { email, password: "wrong password!" });
    expect(limitedRest.ok || limitedGrpc.ok).toBe(false);
    if (!limitedRest.ok) expect(limitedRest.httpStatus).toBe(429);
    if (!limitedGrpc.ok) expect(limitedGrpc.grpcCode).toBe(8);

    // Refresh, then replay the consumed token (reuse interval 0s): the family is revoked.
    const refreshToken = first.ok ? first.body.token.refreshToken.token : "";
    expect((await rest.call("RefreshToken", { refreshToken })).ok).toBe(true);
    const replay = await grpc.call("RefreshToken", { refreshToken });
    expect(replay.ok).toBe(false);
    if (!replay.ok) expect(replay.reason).toBe("REFRESH_TOKEN_REVOKED");

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);

    expect(delta("identra_logins_total", { method: "password_register", result: "success" })).toBe(1);
    expect(delta("identra_logins_total", { method: "password", result: "success" })).toBe(1);
    expect(delta("identra_logins_total", { method: "password", result: "failure" })).toBe(3);
    expect(delta("identra_rate_limited_total", { limit: "failed_login" })).toBe(2);
    expect(delta("identra_refresh_reuse_detected_total", {})).toBe(1);
    expect(delta("identra_refresh_families_revoked_total", { cause: "reuse" })).toBe(1);

    const restLogin = { transport: "http", method: "POST", route: "/api/password/login" };
    expect(delta("identra_requests_total", { ...restLogin, code: "200" })).toBe(1);
    expect(delta("identra_requests_total", { ...restLogin, code: "401" })).toBe(2);
    expect(delta("identra_requests_total", { ...restLogin, code: "429" })).toBe(1);
    expect(delta("identra_requests_total", { transport: "http", method: "POST", route: "/api/token/refresh", code: "200" })).toBe(1);

    const grpcLogin = { transport: "grpc", method: "/identra.v1.IdentraService/LoginByPassword" };
    expect(delta("identra_requests_total", { ...grpcLogin, code: "OK" })).toBe(1);
    expect(delta("identra_requests_total", { ...grpcLogin, code: "UNAUTHENTICATED" })).toBe(1);
    expect(delta("identra_requests_total", { ...grpcLogin, code: "RESOURCE_EXHAUSTED" })).toBe(1);
    expect(
      delta("identra_requests_total", { transport: "grpc", method: "/identra.v1.IdentraService/RefreshToken", code: "UNAUTHENTICATED" }),
    ).toBe(1);

    // Latency histograms per transport and route/method: 4 REST logins, 3 gRPC logins.
    expect(delta("identra_request_duration_seconds_count", restLogin)).toBe(4);
    expect(delta("identra_request_duration_seconds_count", grpcLogin)).toBe(3);
    expect(delta("identra_request_duration_seconds_bucket", { ...grpcLogin, le: "+Inf" })).toBe(3);
    expect(delta("identra_request_duration_seconds_sum", restLogin)).toBeGreaterThan(0);
  });

  test("unknown paths share one label (callers cannot mint series)", async () => {
    for (let i = 0; i < 5; i++) await fetch(`${server.httpUrl}/random-${i}-${crypto.randomUUID()}`);
    await fetch(`${server.httpUrl}/api/x`, { method: "BREW" }).catch(() => undefined);
    const m = await scrape();
    expect(m.text).not.toContain("random-");
    expect(m.value("identra_requests_total", { transport: "http", method: "GET", route: "(unmatched)", code: "404" })).toBeGreaterThanOrEqual(5);
  });

  test("dependency errors are exposed (SMTP down → smtp)", async () => {
    // A server whose SMTP host refuses connections: the send fails and is counted.
    const { freePort } = await import("../support/free-port.ts");
    const dead = await freePort();
    const s = await startTestServer({
      env: {
        ...smtpEnv(dead),
        IDENTRA_SMTP_MAILER_TIMEOUT: "2s",
      },
    });
    try {
      const r = await restDriver(s.httpUrl).call("SendLoginEmailCode", { email: "down@example.com" });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.httpStatus).toBe(503);
      const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
      expect(text).toContain('identra_dependency_errors_total{dependency="smtp"} 1');
    } finally {
      await s.stop();
    }
  });

  test("a transport built without metrics has no /metrics route (404, contract body)", async () => {
    const { createHttpServer } = await import("../../src/transports/http/server.ts");
    const a = server.app;
    const bare = createHttpServer({ api: a.api, health: a.health, config: a.config, logger: a.logger, newRequestId: () => "r" });
    const { port } = await bare.start();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { message: string }).message).toBe("route not found");
    } finally {
      await bare.stop(100);
    }
  });
});

test("GET /metrics is served only to peers in http.metrics_allowed_cidrs", async () => {
  const { startTestServer } = await import("../support/identra-server.ts");
  const closed = await startTestServer({ env: { IDENTRA_HTTP_METRICS_ALLOWED_CIDRS: "10.0.0.0/8" } });
  const off = await startTestServer({ env: { IDENTRA_HTTP_METRICS_ALLOWED_CIDRS: "" } });
  const open = await startTestServer();
  try {
    const denied = await fetch(`${closed.httpUrl}/metrics`, { headers: { "x-forwarded-for": "10.1.2.3" } });
    expect(denied.status).toBe(404);
    expect((await denied.json()) as object).toMatchObject({ code: 5 });
    expect((await fetch(`${off.httpUrl}/metrics`)).status).toBe(404);
    const allowed = await fetch(`${open.httpUrl}/metrics`);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain("identra_requests_total");
  } finally {
    await Promise.all([closed.stop(), off.stop(), open.stop()]);
  }
});
