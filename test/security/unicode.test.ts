// Unicode edge cases, over both transports.
//
// Emails: Identra accepts ASCII addresses only (domain/email.ts: no SMTPUTF8, so no look-alike
// accounts). IDN domains must come in their punycode (xn--) form; Unicode domains, fullwidth @,
// zero-width characters, bidi overrides, combining marks and homoglyphs are a clear
// INVALID_ARGUMENT ("email is not a valid address: ..."), never a 500. Surrounding whitespace that
// String.prototype.trim removes (incl. NBSP and BOM) is trimmed, as the contract says.
//
// Passwords: treated as an exact sequence of Unicode code points, with NO normalization. The length
// policy (8..128) counts code points, not UTF-16 units or bytes, so an emoji is one character. NUL is
// refused where a password is set. NFC and NFD spellings of the same text are DIFFERENT passwords:
// hashes imported from the existing service were computed over the raw bytes, and normalizing now
// would lock those users out; clients that want normalization must apply it before sending.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink.ts";
import { driversFor, expectFailure, freshEmail, GRPC, ROOMY_LIMITS, smtpEnv, TRANSPORTS, type Drivers } from "./support.ts";

let server: TestServer;
let sink: SmtpSink;
let d: Drivers;

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer({ env: { ...ROOMY_LIMITS, ...smtpEnv(sink.port) } });
  d = driversFor(server);
});

afterAll(async () => {
  d.close();
  await server.stop();
  await sink.stop();
});

const BAD_EMAILS: [string, string][] = [
  ["IDN domain in Unicode", "user@bücher.de"],
  ["Unicode local part and domain", "用户@例子.广告"],
  ["fullwidth @", "user＠example.com"],
  ["small commercial at", "user﹫example.com"],
  ["fullwidth letters", "ｕｓｅｒ@example.com"],
  ["zero-width space in the local part", "us\u200Ber@example.com"],
  ["zero-width joiner in the domain", "user@exa\u200Dmple.com"],
  ["zero-width non-joiner at the end", "user@example.com\u200C"],
  ["RTL override", "\u202Emoc.elpmaxe@resu"],
  ["RTL override inside", "user@example\u202E.com"],
  ["LTR mark", "user\u200E@example.com"],
  ["combining diaeresis (NFD ü)", "u\u0308ser@example.com"],
  ["precomposed ü (NFC)", "\u00FCser@example.com"],
  ["combining mark on the domain", "user@e\u0301xample.com"],
  ["Cyrillic а homoglyph", "\u0430dmin@example.com"],
  ["Greek ο homoglyph in the domain", "user@ex\u03BFmple.com"],
  ["dotless ı", "\u0131nfo@example.com"],
  ["emoji", "😀@example.com"],
  ["NUL", "user\u0000@example.com"],
  ["lone surrogate", "user\uD800@example.com"],
  ["ideographic full stop as dot", "user@example\u3002com"],
  ["soft hyphen", "us\u00ADer@example.com"],
];

describe.each(TRANSPORTS)("Unicode in emails over %s", (t) => {
  test.each(BAD_EMAILS)("%s → clear INVALID_ARGUMENT on every RPC taking an email", async (_name, email) => {
    for (const [rpc, body] of [
      ["SendLoginEmailCode", { email }],
      ["LoginByEmailCode", { email, code: "123456" }],
      ["LoginByPassword", { email, password: "unicode-test-password" }],
      ["RegisterByPassword", { email, password: "unicode-test-password" }],
    ] as const) {
      const r = await d[t].call(rpc, body);
      expectFailure(r, GRPC.INVALID_ARGUMENT);
      if (!r.ok) expect(r.message).toMatch(/^email is not a valid address: .+/);
    }
  });

  test("an IDN domain in punycode is an ordinary ASCII address", async () => {
    const email = `user-${Date.now()}@xn--bcher-kva.de`;
    expect((await d[t].call("LoginByPassword", { email, password: "punycode-password" })).ok).toBe(true);
  });

  test("whitespace that trim() removes (NBSP, BOM, tabs) is trimmed; case is folded", async () => {
    const email = freshEmail(`trim-${t}`);
    const r = await d[t].call("RegisterByPassword", { email: `\u00A0\uFEFF\t${email.toUpperCase()} `, password: "trimmed-password" });
    expect(r.ok).toBe(true);
    expect((await d[t].call("LoginByPassword", { email, password: "trimmed-password" })).ok).toBe(true);
  });
});

describe.each(TRANSPORTS)("Unicode in passwords over %s", (t) => {
  const register = (password: string) => d[t].call("RegisterByPassword", { email: freshEmail(`pw-${t}`), password });

  test("emoji count as one character each: 8 emoji are enough, 7 are not", async () => {
    const email = freshEmail(`emoji-${t}`);
    const pw = "🔐🦄🌍🎉🚀💡🔥✨";
    expect([...pw].length).toBe(8);
    expect((await d[t].call("RegisterByPassword", { email, password: pw })).ok).toBe(true);
    expect((await d[t].call("LoginByPassword", { email, password: pw })).ok).toBe(true);
    const seven = await register("🔐🦄🌍🎉🚀💡🔥"); // 14 UTF-16 units, 28 bytes, 7 code points
    expectFailure(seven, GRPC.INVALID_ARGUMENT, "password must be at least 8 characters");
  });

  test("128 code points are accepted, 129 are refused before hashing — counted in code points", async () => {
    expect((await register("a".repeat(128))).ok).toBe(true);
    expectFailure(await register("a".repeat(129)), GRPC.INVALID_ARGUMENT, "password must be at most 128 characters");
    // 128 emoji = 256 UTF-16 units, 512 bytes: still 128 characters.
    expect((await register("😀".repeat(128))).ok).toBe(true);
    expectFailure(await register("😀".repeat(129)), GRPC.INVALID_ARGUMENT, "password must be at most 128 characters");
    // A login with an over-long password is refused the same way (no hashing of huge inputs).
    expectFailure(await d[t].call("LoginByPassword", { email: freshEmail("long"), password: "😀".repeat(129) }), GRPC.INVALID_ARGUMENT, "password must be at most 128 characters");
  });

  test("NUL is refused where a password is set, and is just a wrong password at login", async () => {
    expectFailure(await register("pass\u0000word-123"), GRPC.INVALID_ARGUMENT, "password must not contain NUL characters");
    const email = freshEmail(`nul-${t}`);
    expect((await d[t].call("RegisterByPassword", { email, password: "password-123" })).ok).toBe(true);
    // A NUL does not truncate: "password-123\0anything" is not "password-123".
    expectFailure(await d[t].call("LoginByPassword", { email, password: "password-123\u0000anything" }), GRPC.UNAUTHENTICATED, "invalid credentials");
  });

  test("NFC and NFD spellings are different passwords (no normalization, see header)", async () => {
    const email = freshEmail(`nf-${t}`);
    const nfc = "Caf\u00E9-cr\u00E8me-br\u00FBl\u00E9e";
    const nfd = nfc.normalize("NFD");
    expect(nfd).not.toBe(nfc);
    expect((await d[t].call("RegisterByPassword", { email, password: nfc })).ok).toBe(true);
    expect((await d[t].call("LoginByPassword", { email, password: nfc })).ok).toBe(true);
    expectFailure(await d[t].call("LoginByPassword", { email, password: nfd }), GRPC.UNAUTHENTICATED, "invalid credentials");
  });

  test("RTL overrides, zero-width and combining characters in passwords are plain characters", async () => {
    const email = freshEmail(`bidi-${t}`);
    const pw = "\u202Eabc\u200Bdef\u0301ghi\uFEFF";
    expect((await d[t].call("RegisterByPassword", { email, password: pw })).ok).toBe(true);
    expect((await d[t].call("LoginByPassword", { email, password: pw })).ok).toBe(true);
    expectFailure(await d[t].call("LoginByPassword", { email, password: pw.replace("\u200B", "") }), GRPC.UNAUTHENTICATED);
  });
});

test("REST: a lone surrogate in a JSON string and invalid UTF-8 bytes are refused cleanly", async () => {
  const a = await fetch(`${server.httpUrl}/api/password/login`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"email":"a@b.co","password":"\\ud800\\ud800xxxxxxxx"}' });
  expect(a.status).toBeLessThan(500);
  const b = await fetch(`${server.httpUrl}/api/password/login`, { method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
  expect(b.status).toBe(400);
  expect(((await b.json()) as { message: string }).message).toBe("malformed JSON body");
});
