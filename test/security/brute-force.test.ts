// Brute force on passwords and email codes is stopped by the limits (contract §5: 5 failed logins
// per 15 minutes per email and per client IP; at most 5 wrong tries per code). Default limits; the
// server trusts 127.0.0.1 as a proxy so each scenario can act from its own client IP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import type { RpcResult } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { driversFor, expectFailure, freshEmail, GRPC, smtpEnv, TRANSPORTS, type Drivers } from "./support.ts";

const TOO_MANY_FAILED = "too many failed attempts, please try again later";
const INVALID_CODE = "invalid or expired code";

let server: TestServer;
let sink: SmtpSink;
let d: Drivers;

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ env: { ...smtpEnv(sink.port), IDENTRA_HTTP_TRUSTED_PROXIES: "127.0.0.1/32" } });
  d = driversFor(server);
});

afterAll(async () => {
  d.close();
  await server.stop();
  await sink.stop();
});

let ipSeq = 0;
/** A client IP of its own for each scenario (TEST-NET-2 addresses). */
const freshIp = () => `198.51.100.${++ipSeq}`;
const from = (ip: string) => ({ headers: { "x-forwarded-for": ip } });
const wrongCodeFor = (code: string, i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");

const expectLimited = (r: RpcResult, transport: string) => {
  expectFailure(r, GRPC.RESOURCE_EXHAUSTED, TOO_MANY_FAILED);
  if (transport === "rest" && !r.ok) expect(Number(r.headers?.get("retry-after"))).toBeGreaterThan(0);
};

describe.each(TRANSPORTS)("brute force over %s", (t) => {
  test("passwords: 5 wrong guesses, then RESOURCE_EXHAUSTED — the right password too", async () => {
    const ip = freshIp();
    const email = freshEmail("pw-bf");
    const password = "the right password";
    expect((await d[t].call("RegisterByPassword", { email, password }, from(ip))).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      expectFailure(await d[t].call("LoginByPassword", { email, password: `wrong-guess-${i}` }, from(ip)), GRPC.UNAUTHENTICATED, "invalid credentials");
    }
    expectLimited(await d[t].call("LoginByPassword", { email, password: "wrong-guess-6" }, from(ip)), t);
    expectLimited(await d[t].call("LoginByPassword", { email, password }, from(ip)), t);
    // From another IP the email's own bucket still blocks it.
    expectLimited(await d[t].call("LoginByPassword", { email, password }, from(freshIp())), t);
  });

  test("passwords: one client IP spraying many emails is stopped after 5 failures", async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      const email = freshEmail("spray");
      // Auto-register is on: a fresh email would be created, so spray known accounts with wrong passwords.
      expect((await d[t].call("RegisterByPassword", { email, password: "sprayed-account-pw" }, from(freshIp()))).ok).toBe(true);
      expectFailure(await d[t].call("LoginByPassword", { email, password: "password123" }, from(ip)), GRPC.UNAUTHENTICATED);
    }
    expectLimited(await d[t].call("LoginByPassword", { email: freshEmail("spray-next"), password: "password123" }, from(ip)), t);
  });

  test("email codes: 5 wrong codes, then RESOURCE_EXHAUSTED, and the right code no longer works", async () => {
    const ip = freshIp();
    const email = freshEmail("code-bf");
    expect((await d[t].call("SendLoginEmailCode", { email }, from(ip))).ok).toBe(true);
    const code = extractCode(await sink.waitFor(email));
    for (let i = 0; i < 5; i++) {
      expectFailure(await d[t].call("LoginByEmailCode", { email, code: wrongCodeFor(code, i) }, from(ip)), GRPC.UNAUTHENTICATED, INVALID_CODE);
    }
    expectLimited(await d[t].call("LoginByEmailCode", { email, code: wrongCodeFor(code, 9) }, from(ip)), t);
    expectLimited(await d[t].call("LoginByEmailCode", { email, code }, from(freshIp())), t);
  });

  test("email codes: 50 CONCURRENT wrong codes give at most 5 comparisons — the right code fails afterwards", async () => {
    const email = freshEmail("code-burst");
    expect((await d[t].call("SendLoginEmailCode", { email }, from(freshIp()))).ok).toBe(true);
    const code = extractCode(await sink.waitFor(email));
    // Each guess from its own IP, so only the per-code try limit (not the per-IP bucket) stands in the way.
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => d[t].call("LoginByEmailCode", { email, code: wrongCodeFor(code, i) }, from(freshIp()))));
    expect(results.every((r) => !r.ok)).toBe(true);
    const reasons = new Set(results.map((r) => (r.ok ? "ok" : r.reason)));
    for (const r of reasons) expect(["INVALID_CODE", "RATE_LIMITED"]).toContain(r);
    // The code was voided after the 5th try: the right code fails now, from a clean IP.
    const after = await d[t].call("LoginByEmailCode", { email, code }, from(freshIp()));
    expect(after.ok).toBe(false);
    if (!after.ok) expect(["INVALID_CODE", "RATE_LIMITED"]).toContain(after.reason);
  });
});

test("gRPC: the right code sent last in a burst of 50 (one HTTP/2 connection, in order) is refused", async () => {
  const email = freshEmail("code-burst-last");
  expect((await d.grpc.call("SendLoginEmailCode", { email }, from(freshIp()))).ok).toBe(true);
  const code = extractCode(await sink.waitFor(email));
  const guesses = Array.from({ length: 49 }, (_, i) => wrongCodeFor(code, i)).concat(code);
  const results = await Promise.all(guesses.map((c) => d.grpc.call("LoginByEmailCode", { email, code: c }, from(freshIp()))));
  expect(results.filter((r) => r.ok)).toHaveLength(0);
});
