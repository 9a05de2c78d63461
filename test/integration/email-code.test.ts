// Issue 4 end to end: email-code login over REST and gRPC, with the in-process (memory) ephemeral
// store driven by a manual clock and with a real redis-server; mail goes to a real SMTP sink and the
// code is read out of the captured message (plain text and HTML).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import type { AppOverrides } from "../../src/app.ts";
import { createManualClock } from "../../src/adapters/system/clock.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { startRedis, type RedisHandle } from "../support/redis-server.ts";
import { grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type CapturedMail, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";

const TRANSPORTS = ["rest", "grpc"] as const;
type Transport = (typeof TRANSPORTS)[number];


// Every request here comes from 127.0.0.1, so the per-IP buckets would trip across scenarios: the
// limits themselves are covered by rate-limits.test.ts.
const ROOMY_LIMITS = {
  IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "10000",
  IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "10000",
};

interface Variant {
  server: TestServer;
  drivers: Record<Transport, Driver>;
  /** Lets the 60 s send cooldown pass (clock on memory; the Redis servers run with cooldown 0s). */
  passCooldown(): void;
  /** Makes a code sent now expire. */
  expire(): Promise<void>;
}

let sink: SmtpSink;
let redis: RedisHandle;
const started: TestServer[] = [];
const openDrivers: Driver[] = [];
const variants: Partial<Record<"memory" | "redis", Variant>> = {};
let redisShortTtl: { server: TestServer; drivers: Record<Transport, Driver> };
let noMail: { server: TestServer; drivers: Record<Transport, Driver> };

const driversFor = (s: TestServer): Record<Transport, Driver> => {
  const d = { rest: restDriver(s.httpUrl), grpc: grpcDriver(s.grpcAddress) };
  openDrivers.push(d.rest, d.grpc);
  return d;
};
const start = async (env: Record<string, string>, overrides?: AppOverrides) => {
  const s = await startTestServer({ env, ...(overrides ? { overrides } : {}) });
  started.push(s);
  return s;
};

beforeAll(async () => {
  [sink, redis] = await Promise.all([startSmtpSink(), startRedis()]);
  const clock = createManualClock(Date.now());
  const redisEnv = { ...smtpEnv(sink.port), ...ROOMY_LIMITS, IDENTRA_REDIS_URLS: redis.url };
  const [memory, withRedis, shortTtl, disabled] = await Promise.all([
    start({ ...smtpEnv(sink.port), ...ROOMY_LIMITS }, { clock }),
    start({ ...redisEnv, IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s" }),
    start({ ...redisEnv, IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s", IDENTRA_AUTH_EMAIL_CODE_TTL: "1s" }),
    start({ ...ROOMY_LIMITS }),
  ]);
  variants.memory = {
    server: memory,
    drivers: driversFor(memory),
    passCooldown: () => clock.advance(61_000),
    expire: async () => clock.advance(10 * 60_000 + 1_000),
  };
  variants.redis = {
    server: withRedis,
    drivers: driversFor(withRedis),
    passCooldown: () => {},
    expire: async () => {
      throw new Error("the redis variant expires codes on the short-ttl server");
    },
  };
  redisShortTtl = { server: shortTtl, drivers: driversFor(shortTtl) };
  noMail = { server: disabled, drivers: driversFor(disabled) };
});

afterAll(async () => {
  openDrivers.forEach((d) => d.close());
  await Promise.allSettled(started.map((s) => s.stop()));
  await Promise.allSettled([sink?.stop(), redis?.stop()]);
});

let n = 0;
/** A fresh address in the mixed case / padded form a user might type; the server normalises it. */
const freshEmail = (tag: string) => {
  const local = `Code.${tag}.${++n}.${Math.random().toString(36).slice(2, 8)}`;
  return { typed: `  ${local}@Example.COM `, normal: `${local}@example.com`.toLowerCase() };
};

/** The code from the HTML part only (the text part is blanked so it cannot be the source). */
const codeFromHtml = (mail: CapturedMail) => {
  expect(mail.html).not.toBeNull();
  return extractCode({ ...mail, text: "" });
};

const expectFailure = (r: RpcResult, grpcCode: number, message: string, httpStatus?: number) => {
  expect(r).toMatchObject({ ok: false, grpcCode, message });
  if (httpStatus !== undefined && r.ok === false && r.httpStatus !== undefined) expect(r.httpStatus).toBe(httpStatus);
};

/** Sends a code and returns it as read from the captured mail. */
const sendCode = async (d: Driver, email: { typed: string; normal: string }, useHtml = false) => {
  const r = await d.call("SendLoginEmailCode", useHtml ? { email: email.typed, useHtml: true } : { email: email.typed });
  expect(r).toMatchObject({ ok: true });
  if (r.ok) expect(r.body).toEqual({});
  const mail = await sink.waitFor(email.normal);
  return { mail, code: useHtml ? codeFromHtml(mail) : extractCode(mail) };
};

const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

const tokenPairOf = (r: RpcResult) => {
  expect(r).toMatchObject({ ok: true });
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r)}`);
  const pair = r.body.token;
  expect(pair.tokenType).toBe("Bearer");
  expect(typeof pair.accessToken.token).toBe("string");
  expect(typeof pair.refreshToken.token).toBe("string");
  expect(decodeJwt(pair.accessToken.token).typ).toBe("access");
  expect(decodeJwt(pair.refreshToken.token).typ).toBe("refresh");
  return pair as { accessToken: { token: string }; refreshToken: { token: string } };
};

const INVALID_CODE = "invalid or expired code";

for (const store of ["memory", "redis"] as const) {
  for (const transport of TRANSPORTS) {
    describe(`email code over ${transport} with the ${store} store`, () => {
      const v = () => variants[store]!;
      const d = () => v().drivers[transport];

      test("full flow: plain-text mail → code → token pair; the user is created, then found again", async () => {
        const email = freshEmail(`${store}-${transport}`);
        const { mail, code } = await sendCode(d(), email);
        expect(mail.subject).toBe("Your Verification Code");
        expect(mail.to).toBe(email.normal);
        expect(mail.from).toBe("noreply@identra.test");
        expect(mail.text).toContain(code);
        expect(mail.text).toContain("10 minutes");
        expect(mail.html).toBeNull();

        const pair = tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code }));
        const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: pair.accessToken.token });
        expect(info).toMatchObject({ ok: true, body: { email: email.normal, passwordEnabled: false, oauthConnections: [] } });
        const userId = info.ok ? info.body.userId : "";
        expect(decodeJwt(pair.accessToken.token).sub).toBe(userId);

        v().passCooldown();
        const again = await sendCode(d(), { typed: email.normal.toUpperCase(), normal: email.normal });
        const second = tokenPairOf(await d().call("LoginByEmailCode", { email: email.normal, code: again.code }));
        expect(decodeJwt(second.accessToken.token).sub).toBe(userId);
      });

      test("use_html: the HTML part carries the code and its lifetime, and that code logs in", async () => {
        const email = freshEmail(`${store}-${transport}-html`);
        const { mail, code } = await sendCode(d(), email, true);
        expect(mail.subject).toBe("Your Verification Code");
        expect(mail.html!).toContain(code);
        expect(mail.html!).toContain("10 minutes");
        expect(mail.text).toContain(code); // the plain alternative is still there
        tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code }));
      });

      test("a wrong code is UNAUTHENTICATED invalid or expired code; the right one still works", async () => {
        const email = freshEmail(`${store}-${transport}-wrong`);
        const { code } = await sendCode(d(), email);
        const r = await d().call("LoginByEmailCode", { email: email.typed, code: otherCode(code) });
        expectFailure(r, 16, INVALID_CODE, 401);
        if (transport === "rest" && !r.ok) expect(r.headers?.get("www-authenticate") ?? "").toStartWith("Bearer");
        expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code: "12ab56" }), 16, INVALID_CODE);
        tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code }));
      });

      test("no code was ever sent → invalid or expired code", async () => {
        const email = freshEmail(`${store}-${transport}-none`);
        expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code: "123456" }), 16, INVALID_CODE, 401);
      });

      test("missing fields are INVALID_ARGUMENT", async () => {
        expectFailure(await d().call("SendLoginEmailCode", {}), 3, "email is required", 400);
        expectFailure(await d().call("LoginByEmailCode", { email: "a@example.com" }), 3, "email and code are required", 400);
        expectFailure(await d().call("LoginByEmailCode", { code: "123456" }), 3, "email and code are required", 400);
      });

      if (store === "memory") {
        test("a code past auth.email_code.ttl (manual clock) is invalid or expired", async () => {
          const email = freshEmail(`${store}-${transport}-expired`);
          const { code } = await sendCode(d(), email);
          await v().expire();
          expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code }), 16, INVALID_CODE, 401);
        });
      } else {
        test("a code past auth.email_code.ttl (1s, real Redis expiry) is invalid or expired", async () => {
          const dd = redisShortTtl.drivers[transport];
          const email = freshEmail(`${store}-${transport}-expired`);
          const { code } = await sendCode(dd, email);
          const early = freshEmail(`${store}-${transport}-fresh`);
          const fresh = await sendCode(dd, early);
          // Within the TTL the code works (shows the short TTL is not what rejects it below).
          tokenPairOf(await dd.call("LoginByEmailCode", { email: early.typed, code: fresh.code }));
          await Bun.sleep(1_300);
          expectFailure(await dd.call("LoginByEmailCode", { email: email.typed, code }), 16, INVALID_CODE, 401);
        });
      }

      test("5 wrong tries void the code: the right code then fails", async () => {
        const email = freshEmail(`${store}-${transport}-tries`);
        const { code } = await sendCode(d(), email);
        for (let i = 0; i < 5; i++) {
          const wrong = String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");
          expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code: wrong }), 16, INVALID_CODE);
        }
        expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code }), 16, INVALID_CODE, 401);
        // A new send gives a fresh code with a fresh try budget.
        v().passCooldown();
        const fresh = await sendCode(d(), email);
        tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code: fresh.code }));
      });

      test("4 wrong tries leave the code usable", async () => {
        const email = freshEmail(`${store}-${transport}-four`);
        const { code } = await sendCode(d(), email);
        for (let i = 0; i < 4; i++) expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code: otherCode(code) }), 16, INVALID_CODE);
        tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code }));
      });

      test("a newer send replaces the older code", async () => {
        const email = freshEmail(`${store}-${transport}-replace`);
        const first = await sendCode(d(), email);
        v().passCooldown();
        let second = await sendCode(d(), email);
        while (second.code === first.code) {
          v().passCooldown();
          second = await sendCode(d(), email); // one in a million: draw again
        }
        expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code: first.code }), 16, INVALID_CODE, 401);
        tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code: second.code }));
      });

      test("a used code cannot be used again", async () => {
        const email = freshEmail(`${store}-${transport}-reuse`);
        const { code } = await sendCode(d(), email);
        tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code }));
        expectFailure(await d().call("LoginByEmailCode", { email: email.typed, code }), 16, INVALID_CODE, 401);
      });

      test("two concurrent logins with one code: exactly one wins", async () => {
        const email = freshEmail(`${store}-${transport}-race`);
        const { code } = await sendCode(d(), email);
        const results = await Promise.all(Array.from({ length: 4 }, () => d().call("LoginByEmailCode", { email: email.typed, code })));
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        for (const r of results.filter((x) => !x.ok)) expectFailure(r, 16, INVALID_CODE);
      });

      test("the send answer is the same {} for a known and an unknown address", async () => {
        const known = freshEmail(`${store}-${transport}-known`);
        tokenPairOf(await d().call("RegisterByPassword", { email: known.typed, password: "known-user-pw" }));
        const unknown = freshEmail(`${store}-${transport}-unknown`);
        const a = await d().call("SendLoginEmailCode", { email: known.typed });
        const b = await d().call("SendLoginEmailCode", { email: unknown.typed });
        expect(a).toMatchObject({ ok: true, body: {} });
        expect(b).toMatchObject({ ok: true, body: {} });
        if (a.ok && b.ok) {
          expect(a.body).toEqual(b.body);
          expect(a.body).toEqual({});
        }
        // Both got a mail.
        await sink.waitFor(known.normal);
        await sink.waitFor(unknown.normal);
      });

      test("pre-hijack guard: a code login removes an unverified password and revokes its sessions", async () => {
        const email = freshEmail(`${store}-${transport}-hijack`);
        const squatter = tokenPairOf(await d().call("RegisterByPassword", { email: email.typed, password: "squatter-pw-1" }));
        const before = await d().call("GetCurrentUserLoginInfo", {}, { bearer: squatter.accessToken.token });
        expect(before).toMatchObject({ ok: true, body: { passwordEnabled: true } });

        const { code } = await sendCode(d(), email);
        const owner = tokenPairOf(await d().call("LoginByEmailCode", { email: email.typed, code }));
        expect(decodeJwt(owner.accessToken.token).sub).toBe(decodeJwt(squatter.accessToken.token).sub!);

        expectFailure(await d().call("LoginByPassword", { email: email.typed, password: "squatter-pw-1" }), 9, "password login not set up for this account", 400);
        expectFailure(await d().call("RefreshToken", { refreshToken: squatter.refreshToken.token }), 16, "refresh token has been revoked", 401);
        const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: owner.accessToken.token });
        expect(info).toMatchObject({ ok: true, body: { email: email.normal, passwordEnabled: false } });
        // The owner's own session is alive.
        expect(await d().call("RefreshToken", { refreshToken: owner.refreshToken.token })).toMatchObject({ ok: true });
      });
    });
  }
}

for (const transport of TRANSPORTS) {
  test(`mail disabled (no smtp host) over ${transport} → FAILED_PRECONDITION mail service is disabled`, async () => {
    const d = noMail.drivers[transport];
    const email = freshEmail(`nomail-${transport}`);
    expectFailure(await d.call("SendLoginEmailCode", { email: email.typed }), 9, "mail service is disabled", 400);
    expectFailure(await d.call("LoginByEmailCode", { email: email.typed, code: "123456" }), 16, INVALID_CODE, 401);
  });
}
