// Injection through input fields, over both transports:
// - header/CRLF injection through email addresses into the login-code mail: refused as
//   INVALID_ARGUMENT, and no message with an injected header or recipient reaches the SMTP sink;
// - SQL/NoSQL injection strings in every string field of every RPC (and, on REST, operator objects
//   where a string belongs): a clean contract error (4xx) or an ordinary answer, never a 5xx, never
//   another account's data, and the stores stay intact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import type { RpcResult } from "../support/rpc-driver.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { driversFor, expectFailure, freshEmail, GRPC, ROOMY_LIMITS, smtpEnv, TRANSPORTS, type Drivers } from "./support.ts";

let server: TestServer;
let sink: SmtpSink;
let d: Drivers;
const victim = { email: "victim@example.com", password: "victim-password-123" };
let victimId = "";

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ env: { ...ROOMY_LIMITS, ...smtpEnv(sink.port) } });
  d = driversFor(server);
  const r = await d.rest.call("RegisterByPassword", victim);
  if (!r.ok) throw new Error(r.message);
  victimId = decodeJwt(r.body.token.accessToken.token).sub!;
});

afterAll(async () => {
  d.close();
  await server.stop();
  await sink.stop();
});

const CRLF_EMAILS = [
  "a@b.co\r\nBcc: x@y.z",
  "a@b.co\nBcc: x@y.z",
  "a@b.co\rBcc: x@y.z",
  "a@b.co\r\nBcc: x@y.z\r\n",
  "a@b.co\r\n\r\nInjected body",
  "a@b.co\r\nSubject: pwned",
  "a@b.co\r\nContent-Type: text/html",
  "a@b.co%0d%0aBcc: x@y.z",
  "a@b.co%0aBcc:x@y.z",
  "a@b.co%0D%0ABcc:%20x@y.z",
  "a@b.co\u2028Bcc: x@y.z",
  "a@b.co\u0085Bcc: x@y.z",
  "a@b.co\u0000Bcc: x@y.z",
  "\"a\r\nBcc: x@y.z\"@b.co",
  "a@b.co, x@y.z",
  "a@b.co;x@y.z",
  "a@b.co x@y.z",
  "Victim <a@b.co>, x@y.z",
  "<a@b.co>\r\nBcc: x@y.z",
  "a@b.co>\r\nRCPT TO:<x@y.z",
  "x@y.z\r\n.\r\nMAIL FROM:<evil@y.z>",
];

describe.each(TRANSPORTS)("header/CRLF injection through email addresses over %s", (t) => {
  test.each(CRLF_EMAILS.map((e) => [JSON.stringify(e), e]))("SendLoginEmailCode refuses %s", async (_label, email) => {
    const before = sink.messages.length;
    const r = await d[t].call("SendLoginEmailCode", { email, useHtml: true });
    expectFailure(r, GRPC.INVALID_ARGUMENT);
    if (!r.ok) {
      expect(r.message).toStartWith("email is not a valid address");
      expect(r.message).not.toContain("x@y.z");
    }
    await Bun.sleep(5);
    expect(sink.messages.length).toBe(before);
  });

  test.each(CRLF_EMAILS.map((e) => [JSON.stringify(e), e]))("the login RPCs refuse %s too", async (_label, email) => {
    for (const [rpc, body] of [
      ["LoginByEmailCode", { email, code: "123456" }],
      ["LoginByPassword", { email, password: "a-password-123" }],
      ["RegisterByPassword", { email, password: "a-password-123" }],
    ] as const) {
      expectFailure(await d[t].call(rpc, body), GRPC.INVALID_ARGUMENT);
    }
  });
});

test("no captured mail ever carried an injected header or recipient", () => {
  for (const m of sink.messages) {
    expect(m.recipients.every((r) => !r.includes("x@y.z") && !r.includes("evil"))).toBe(true);
    expect(m.headers.bcc).toBeUndefined();
    expect(m.subject).not.toContain("pwned");
    expect(m.raw).not.toMatch(/^(Bcc|RCPT TO|MAIL FROM):/im);
  }
});

test("a trailing newline is trimmed (contract: trim + lower-case), not injected", async () => {
  const email = freshEmail("trim");
  const before = sink.messages.length;
  expect((await d.rest.call("SendLoginEmailCode", { email: `  ${email.toUpperCase()}\r\n` })).ok).toBe(true);
  const mail = await sink.waitFor(email);
  expect(mail.recipients).toEqual([email]);
  expect(mail.headers.to).toBe(email);
  expect(sink.messages.length).toBe(before + 1);
});

// ---- SQL / NoSQL injection in every string field of every RPC ------------------------------------

const INJECTIONS = [
  "' OR 1=1 --",
  "' OR '1'='1",
  "admin'--",
  "\"; DROP TABLE users; --",
  "1; SELECT * FROM users",
  "' UNION SELECT password_hash, email FROM users --",
  "victim@example.com' --",
  "victim@example.com' OR '1'='1",
  '{"$ne": null}',
  '{"$gt": ""}',
  '{"$where": "this.password.length > 0"}',
  '{"$regex": ".*"}',
  "%",
  "_",
  "*",
  "\\",
  "'; --",
  "$ne",
  "[$ne]=1",
];

/** Every string field of every RPC, with plausible values for the other fields. */
const STRING_FIELDS: [rpc: string, field: string, base: Record<string, unknown>][] = [
  ["GetOAuthAuthorizationURL", "provider", { provider: "github", redirectUrl: "https://app.example/cb" }],
  ["GetOAuthAuthorizationURL", "redirectUrl", { provider: "github", redirectUrl: "https://app.example/cb" }],
  ["LoginByOAuth", "code", { code: "abc", state: "a".repeat(64) }],
  ["LoginByOAuth", "state", { code: "abc", state: "a".repeat(64) }],
  ["BindUserByOAuth", "accessToken", { accessToken: "x", code: "abc", state: "a".repeat(64) }],
  ["BindUserByOAuth", "code", { code: "abc", state: "a".repeat(64) }],
  ["BindUserByOAuth", "state", { code: "abc", state: "a".repeat(64) }],
  ["SendLoginEmailCode", "email", { email: "x@example.com" }],
  ["LoginByEmailCode", "email", { email: victim.email, code: "123456" }],
  ["LoginByEmailCode", "code", { email: victim.email, code: "123456" }],
  ["RegisterByPassword", "email", { email: "x@example.com", password: "a-password-123" }],
  ["RegisterByPassword", "password", { email: victim.email, password: "a-password-123" }],
  ["LoginByPassword", "email", { email: victim.email, password: victim.password }],
  ["LoginByPassword", "password", { email: victim.email, password: victim.password }],
  ["RefreshToken", "refreshToken", { refreshToken: "x" }],
  ["RevokeRefreshToken", "refreshToken", { refreshToken: "x" }],
  ["GetCurrentUserLoginInfo", "accessToken", { accessToken: "x" }],
];

const noLeak = (r: RpcResult) => {
  const text = JSON.stringify(r.ok ? r.body : { m: r.message });
  expect(text).not.toContain("$argon2");
  expect(text.toLowerCase()).not.toContain("sql");
  expect(text.toLowerCase()).not.toContain("syntax");
  if (r.ok && r.body?.token?.accessToken?.token) {
    // Whatever an injection got, it is never the victim's session.
    expect(decodeJwt(r.body.token.accessToken.token).sub).not.toBe(victimId);
  }
  if (r.ok && typeof r.body?.email === "string") expect(r.body.email).not.toBe(victim.email);
};

describe.each(TRANSPORTS)("SQL/NoSQL injection strings over %s", (t) => {
  test.each(STRING_FIELDS)("%s.%s: every payload gets a clean answer, never a 5xx or a leak", async (rpc, field, base) => {
    for (const payload of INJECTIONS) {
      const r = await d[t].call(rpc, { ...base, [field]: payload });
      if (!r.ok) {
        expect(r.grpcCode).not.toBeOneOf([2, 13, 14, 15]); // UNKNOWN, INTERNAL, UNAVAILABLE, DATA_LOSS
        if (r.httpStatus !== undefined) expect(r.httpStatus).toBeLessThan(500);
        expect(typeof r.message).toBe("string");
        expect(r.message).not.toContain(payload.length > 2 ? payload : "\u0000never");
      }
      noLeak(r);
    }
    // The victim's password still logs in, i.e. the store was neither bypassed nor damaged.
    expect((await d[t].call("LoginByPassword", victim)).ok).toBe(true);
  });

  test("the Bearer header with injection strings is refused as an invalid token", async () => {
    for (const payload of INJECTIONS) {
      expectFailure(await d[t].call("GetCurrentUserLoginInfo", {}, { bearer: payload.replace(/\s/g, "") }), GRPC.UNAUTHENTICATED);
    }
  });
});

describe("REST: operator objects and arrays where a string belongs", () => {
  const OPERATORS: unknown[] = [{ $ne: null }, { $gt: "" }, { $regex: ".*" }, { $where: "1" }, ["victim@example.com"], 1, true, { toString: "x" }];
  test.each(STRING_FIELDS.filter(([rpc]) => rpc !== "GetOAuthAuthorizationURL"))("%s.%s refuses non-strings with INVALID_ARGUMENT", async (rpc, field, base) => {
    for (const op of OPERATORS) {
      const r = await d.rest.call(rpc, { ...base, [field]: op });
      expectFailure(r, GRPC.INVALID_ARGUMENT);
      if (!r.ok) {
        expect(r.message).toMatch(/^invalid value for field [a-z_]+: expected a string$/);
        expect(r.message).not.toContain("$");
      }
    }
  });

  test("query parameters given twice or as bracket operators stay plain strings", async () => {
    const url = `${server.httpUrl}/api/oauth/url?provider[$ne]=x&provider=%27%20OR%201%3D1&redirect_url[$gt]=`;
    const res = await fetch(url);
    expect(res.status).toBeLessThan(500);
    expect(res.status).toBeGreaterThanOrEqual(400);
    const body = (await res.json()) as { code: number; message: string };
    expect(body.message).not.toContain("OR 1=1");
  });
});

test("after all of it, the user table still has exactly the accounts this file made legitimately", async () => {
  const r = await d.grpc.call("LoginByPassword", victim);
  expect(r.ok).toBe(true);
  if (r.ok) {
    const info = await d.grpc.call("GetCurrentUserLoginInfo", {}, { bearer: r.body.token.accessToken.token });
    expect(info.ok && info.body.email).toBe(victim.email);
  }
});
