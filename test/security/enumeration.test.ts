// Account enumeration (contract §3, §5). With auth.password.auto_register=false, a password login for
// an unknown email and a wrong password for a known one answer the same status, gRPC code, message
// and reason, and — with the default Argon2 cost so the hashing dominates — take the same time within
// noise (medians over interleaved samples). SendLoginEmailCode answers identically whether or not the
// address has an account.
// Out of scope by contract: RegisterByPassword says ALREADY_EXISTS for a taken email, and a password
// login to an account without a password says FAILED_PRECONDITION; both are documented answers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import type { RpcResult } from "../support/rpc-driver.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { driversFor, freshEmail, ROOMY_LIMITS, smtpEnv, TRANSPORTS, type Drivers } from "./support.ts";

const SAMPLES = 40;
let server: TestServer;
let sink: SmtpSink;
let d: Drivers;
const known = { email: freshEmail("known"), password: "the-right-password-1" };

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({
    env: {
      ...ROOMY_LIMITS,
      ...smtpEnv(sink.port),
      IDENTRA_AUTH_PASSWORD_AUTO_REGISTER: "false",
      // The production default cost: the hash, not the database lookup, is what the time measures.
      IDENTRA_AUTH_PASSWORD_ARGON2_MEMORY_COST: "19456",
      IDENTRA_AUTH_PASSWORD_ARGON2_TIME_COST: "2",
    },
  });
  d = driversFor(server);
  const r = await d.rest.call("RegisterByPassword", known);
  if (!r.ok) throw new Error(r.message);
});

afterAll(async () => {
  d.close();
  await server.stop();
  await sink.stop();
});

/** Everything a caller can see of a failure, minus per-request values. */
const visible = (r: RpcResult) => {
  if (r.ok) return { ok: true };
  return {
    ok: false,
    grpcCode: r.grpcCode,
    reason: r.reason,
    message: r.message,
    httpStatus: r.httpStatus,
    wwwAuthenticate: r.headers?.get("www-authenticate") ?? null,
    contentType: r.headers?.get("content-type") ?? null,
  };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

describe.each(TRANSPORTS)("password login over %s, auto_register=false", (t) => {
  test(`unknown email and wrong password: same answer, same time (${SAMPLES} interleaved samples each)`, async () => {
    const unknownTimes: number[] = [];
    const wrongTimes: number[] = [];
    const answers = new Set<string>();
    // Warm-up (JIT, connection, the dummy hash) outside the measurement.
    await d[t].call("LoginByPassword", { email: freshEmail("warm"), password: "whatever-password" });
    await d[t].call("LoginByPassword", { email: known.email, password: "whatever-password" });
    for (let i = 0; i < SAMPLES; i++) {
      // Alternate which goes first so drift (GC, CPU frequency) hits both sides alike.
      const order = i % 2 === 0 ? (["unknown", "wrong"] as const) : (["wrong", "unknown"] as const);
      for (const kind of order) {
        const body = kind === "unknown" ? { email: freshEmail("nobody"), password: `guess-${i}-password` } : { email: known.email, password: `guess-${i}-password` };
        const started = performance.now();
        const r = await d[t].call("LoginByPassword", body);
        (kind === "unknown" ? unknownTimes : wrongTimes).push(performance.now() - started);
        answers.add(JSON.stringify(visible(r)));
      }
    }
    expect([...answers].map((a) => JSON.parse(a))).toEqual([
      {
        ok: false,
        grpcCode: 16,
        reason: "INVALID_CREDENTIALS",
        message: "invalid credentials",
        ...(t === "rest" ? { httpStatus: 401, wwwAuthenticate: "Bearer", contentType: "application/json; charset=utf-8" } : { httpStatus: undefined, wwwAuthenticate: null, contentType: null }),
      },
    ]);
    const mu = median(unknownTimes);
    const mw = median(wrongTimes);
    const ratio = mu / mw;
    console.log(`[enumeration ${t}] median unknown-email ${mu.toFixed(2)} ms, wrong-password ${mw.toFixed(2)} ms, ratio ${ratio.toFixed(3)} (n=${SAMPLES} each)`);
    // The hash must really dominate, or the comparison says nothing.
    expect(mw).toBeGreaterThan(5);
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.4);
  }, 120_000);
});

describe.each(TRANSPORTS)("SendLoginEmailCode over %s", (t) => {
  test("answers identically for a known and an unknown address", async () => {
    const unknown = freshEmail("stranger");
    const a = await d[t].call("SendLoginEmailCode", { email: known.email });
    const b = await d[t].call("SendLoginEmailCode", { email: unknown });
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(a.body).toEqual(b.body);
    if (t === "rest" && a.ok && b.ok) {
      for (const h of ["content-type", "content-length", "cache-control", "www-authenticate"]) expect(a.headers?.get(h)).toBe(b.headers?.get(h) ?? null);
    }
    // Both addresses get a code mail (the mail, not the answer, is what proves ownership).
    await sink.waitFor(known.email);
    await sink.waitFor(unknown);
  });
});
