// Structured JSON logs of the real app over both transports, captured through a `logger` override:
// one line per request with the request id (x-request-id honoured and returned on REST and gRPC),
// never a password, email code, token, OAuth code or client secret in any line, at any level, and the
// email only when log.level=debug.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpcJs from "@grpc/grpc-js";
import { createLogger } from "../../src/adapters/system/logger.ts";
import { AppError } from "../../src/domain/errors.ts";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { createGrpcClient, grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";

const CLIENT_SECRET = "gh-client-secret-S3CR3T-7d1f0c";
const REDIRECT = "https://app.example.test/callback";

type Level = "debug" | "info";
interface Target {
  server: TestServer;
  lines: string[];
  rest: Driver;
  grpc: Driver;
}

let sink: SmtpSink;
let github: FakeGitHub;
const targets: Partial<Record<Level, Target>> = {};

const startTarget = async (level: Level): Promise<Target> => {
  const lines: string[] = [];
  const logger = createLogger({ level, format: "json", now: () => Date.now(), write: (l) => void lines.push(l) });
  const server = await startTestServer({
    env: {
      IDENTRA_LOG_LEVEL: level,
      ...smtpEnv(sink.port),
      IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s",
      IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "1000",
      IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "1000",
      IDENTRA_AUTH_GITHUB_CLIENT_ID: github.clientId,
      IDENTRA_AUTH_GITHUB_CLIENT_SECRET: CLIENT_SECRET,
      IDENTRA_AUTH_GITHUB_AUTHORIZE_URL: github.authorizeUrl,
      IDENTRA_AUTH_GITHUB_TOKEN_URL: github.tokenUrl,
      IDENTRA_AUTH_GITHUB_API_URL: github.apiUrl,
      IDENTRA_AUTH_GITHUB_TIMEOUT: "1s",
    },
    overrides: { logger },
  });
  return { server, lines, rest: restDriver(server.httpUrl), grpc: grpcDriver(server.grpcAddress) };
};

beforeAll(async () => {
  [sink, github] = await Promise.all([startSmtpSink(), startFakeGitHub({ clientSecret: CLIENT_SECRET })]);
  [targets.debug, targets.info] = await Promise.all([startTarget("debug"), startTarget("info")]);
});

afterAll(async () => {
  for (const t of Object.values(targets)) {
    t.rest.close();
    t.grpc.close();
    await t.server.stop();
  }
  await Promise.all([sink.stop(), github.stop()]);
});

let n = 0;

/**
 * Every flow that handles a secret, over both transports, successes and failures: password
 * register/login/wrong password, email code send + login + wrong code, refresh, replay, revoke,
 * login info with a Bearer header, GitHub OAuth login and a failing exchange. Returns the secrets
 * and emails it used.
 */
async function runFlows(t: Target): Promise<{ secrets: string[]; emails: string[] }> {
  const secrets: string[] = [CLIENT_SECRET];
  const emails: string[] = [];
  for (const d of [t.rest, t.grpc]) {
    const tag = `${d.transport}-${++n}`;
    const email = `log-${tag}@example.com`;
    const password = `Pw-${tag}-hunter2-${crypto.randomUUID()}`;
    emails.push(email);
    secrets.push(password);

    const reg = await d.call("RegisterByPassword", { email, password });
    expect(reg.ok).toBe(true);
    const login = await d.call("LoginByPassword", { email, password });
    expect(login.ok).toBe(true);
    const wrong = `Wrong-${tag}-${crypto.randomUUID()}`;
    secrets.push(wrong);
    expect((await d.call("LoginByPassword", { email, password: wrong })).ok).toBe(false);
    if (!login.ok || !reg.ok) throw new Error("login failed");
    const { accessToken, refreshToken } = login.body.token;
    secrets.push(accessToken.token, refreshToken.token, reg.body.token.accessToken.token, reg.body.token.refreshToken.token);

    expect((await d.call("GetCurrentUserLoginInfo", {}, { bearer: accessToken.token })).ok).toBe(true);
    expect((await d.call("GetCurrentUserLoginInfo", {}, { bearer: `${accessToken.token}x` })).ok).toBe(false);
    const refreshed = await d.call("RefreshToken", { refreshToken: refreshToken.token });
    expect(refreshed.ok).toBe(true);
    if (refreshed.ok) secrets.push(refreshed.body.token.accessToken.token, refreshed.body.token.refreshToken.token);
    expect((await d.call("RevokeRefreshToken", { refreshToken: reg.body.token.refreshToken.token })).ok).toBe(true);
    expect((await d.call("RefreshToken", { refreshToken: reg.body.token.refreshToken.token })).ok).toBe(false);

    // Email code: send, a wrong guess, the right code.
    const codeEmail = `code-${tag}@example.com`;
    emails.push(codeEmail);
    expect((await d.call("SendLoginEmailCode", { email: codeEmail, useHtml: true })).ok).toBe(true);
    const code = extractCode(await sink.waitFor(codeEmail));
    secrets.push(code);
    const wrongCode = code === "000000" ? "111111" : "000000";
    expect((await d.call("LoginByEmailCode", { email: codeEmail, code: wrongCode })).ok).toBe(false);
    const byCode = await d.call("LoginByEmailCode", { email: codeEmail, code });
    expect(byCode.ok).toBe(true);
    if (byCode.ok) secrets.push(byCode.body.token.accessToken.token, byCode.body.token.refreshToken.token);

    // GitHub: a login, then an exchange that fails (the adapter's error path).
    const login2 = `gh-log-${tag}`;
    const ghEmail = `${login2}@users.example.com`;
    emails.push(ghEmail);
    github.addUser({ id: 7_000_000 + n, login: login2, emails: [{ email: ghEmail, verified: true, primary: true }] });
    for (const fail of [false, true]) {
      const u = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirectUrl: REDIRECT });
      if (!u.ok) throw new Error(`oauth url: ${u.message}`);
      const url = new URL(u.body.url);
      url.searchParams.set("login", login2);
      const res = await fetch(url, { redirect: "manual" });
      await res.body?.cancel();
      const back = new URL(res.headers.get("location")!);
      const oauthCode = back.searchParams.get("code")!;
      secrets.push(oauthCode);
      if (fail) github.setBehavior({ tokenError: 500 });
      const r = await d.call("LoginByOAuth", { code: oauthCode, state: u.body.state });
      github.resetBehavior();
      expect(r.ok).toBe(!fail);
      if (r.ok) secrets.push(r.body.token.accessToken.token, r.body.token.refreshToken.token);
    }
  }
  return { secrets, emails };
}

const findLeaks = (lines: string[], needles: string[]) =>
  needles.flatMap((s) => lines.filter((l) => l.includes(s)).map((l) => `${s.slice(0, 12)}… in ${l.slice(0, 200)}`));

describe("secrets never reach a log line", () => {
  for (const level of ["info", "debug"] as const) {
    test(`log.level=${level}: no password, code, token or client secret in any line; email ${level === "debug" ? "shown" : "never shown"}`, async () => {
      const t = targets[level]!;
      const start = t.lines.length;
      const { secrets, emails } = await runFlows(t);
      const lines = t.lines.slice(start);
      expect(lines.length).toBeGreaterThan(20);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(findLeaks(lines, secrets)).toEqual([]);
      // Secret-bearing header values never appear either (Authorization is not logged at all).
      expect(lines.some((l) => /bearer\s/i.test(l))).toBe(false);
      const withEmail = findLeaks(lines, emails);
      if (level === "debug") {
        // Each flow's email appears in its request lines, on both transports.
        for (const e of emails.filter((x) => !x.startsWith("gh-"))) expect(lines.some((l) => l.includes(e))).toBe(true);
        expect(lines.some((l) => l.includes('"msg":"grpc call"') && l.includes("@example.com"))).toBe(true);
      } else {
        expect(withEmail).toEqual([]);
        expect(lines.some((l) => l.includes("@"))).toBe(false);
      }
    });
  }
});

describe("request ids", () => {
  test("REST: x-request-id is honoured, returned and logged; a missing or unsafe one is replaced", async () => {
    const t = targets.info!;
    const start = t.lines.length;
    const res = await fetch(`${t.server.httpUrl}/api/oauth/providers`, { headers: { "x-request-id": "trace-abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-abc-123");
    const bad = await fetch(`${t.server.httpUrl}/api/oauth/providers`, { headers: { "x-request-id": "evil\tvalue with spaces" } });
    const generated = bad.headers.get("x-request-id");
    expect(generated).toBeTruthy();
    expect(generated).not.toContain("evil");
    const lines = t.lines.slice(start).map((l) => JSON.parse(l));
    const access = lines.filter((l) => l.msg === "http request");
    expect(access).toHaveLength(2);
    expect(access[0]).toMatchObject({ level: "info", method: "GET", route: "/api/oauth/providers", status: 200, requestId: "trace-abc-123" });
    expect(typeof access[0].durationMs).toBe("number");
    expect(typeof access[0].time).toBe("string");
    expect(access[1].requestId).toBe(generated);
  });

  test("gRPC: x-request-id metadata is honoured, returned in the response metadata and logged", async () => {
    const t = targets.info!;
    const start = t.lines.length;
    const client = createGrpcClient(t.server.grpcAddress);
    try {
      const md = new grpcJs.Metadata();
      md.set("x-request-id", "grpc-trace-42");
      const returned = await new Promise<string>((resolve, reject) => {
        let header = "";
        const call = client.ListOAuthProviders({}, md, (err: unknown) => (err ? reject(err) : resolve(header)));
        call.on("metadata", (m: grpcJs.Metadata) => (header = String(m.get("x-request-id")[0] ?? "")));
      });
      expect(returned).toBe("grpc-trace-42");
      // A failing call carries it too.
      const failed = await new Promise<string>((resolve) => {
        let header = "";
        const m2 = new grpcJs.Metadata();
        m2.set("x-request-id", "grpc-trace-43");
        const call = client.LoginByPassword({ email: "", password: "" }, m2, () => resolve(header));
        call.on("metadata", (m: grpcJs.Metadata) => (header = String(m.get("x-request-id")[0] ?? "")));
      });
      expect(failed).toBe("grpc-trace-43");
    } finally {
      client.close();
    }
    const lines = t.lines.slice(start).map((l) => JSON.parse(l)).filter((l) => l.msg === "grpc call");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ method: "/identra.v1.IdentraService/ListOAuthProviders", status: 0, requestId: "grpc-trace-42" });
    expect(lines[1]).toMatchObject({ method: "/identra.v1.IdentraService/LoginByPassword", status: 3, requestId: "grpc-trace-43" });
  });
});

describe("dependency failures", () => {
  test("the cause is logged for operators, without the address or token a driver quoted", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", now: () => Date.now(), write: (l) => void lines.push(l) });
    const victim = "quoted-victim@example.com";
    const mailer = {
      async send() {
        const cause = new Error(`Can't send mail - all recipients were rejected: 550 5.1.1 <${victim}>: Recipient address rejected; ref eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln`);
        throw new AppError("DEPENDENCY_UNAVAILABLE", "mail service is unavailable", { cause });
      },
      async close() {},
    };
    const server = await startTestServer({
      env: { IDENTRA_LOG_LEVEL: "info", IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s" },
      overrides: { logger, mailer },
    });
    const rest = restDriver(server.httpUrl);
    const grpc = grpcDriver(server.grpcAddress);
    try {
      for (const d of [rest, grpc]) expect((await d.call("SendLoginEmailCode", { email: victim })).ok).toBe(false);
    } finally {
      grpc.close();
      await server.stop();
    }
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "dependency unavailable");
    expect(warnings).toHaveLength(2);
    for (const w of warnings) expect(w.cause).toContain("550 5.1.1 <[email]>: Recipient address rejected; ref [token]");
    expect(lines.filter((l) => l.includes(victim) || l.includes("eyJhbGciOiJSUzI1NiJ9"))).toEqual([]);
  });
});

describe("the logger itself", () => {
  test("secret-named fields are redacted whatever their case; email is dropped below debug", () => {
    const out: string[] = [];
    const log = createLogger({ level: "info", format: "json", now: () => 0, write: (l) => void out.push(l) });
    log.info("x", { Password: "p1", client_secret: "s1", Authorization: "Bearer t1", refresh_token: "r1", code: "123456", email: "a@b.co", ok: 1 });
    expect(out[0]).not.toMatch(/p1|s1|t1|r1|123456|a@b\.co/);
    expect(JSON.parse(out[0]!)).toMatchObject({ Password: "[redacted]", code: "[redacted]", ok: 1 });
  });
});
