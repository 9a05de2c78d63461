// Issue 4 faults end to end over REST and gRPC: a real redis-server stopped mid-test (codes answer
// UNAVAILABLE naming redis, password login keeps working because its limiter fails open, /readyz and
// gRPC health go down) and restarted on the same port (Identra recovers without a restart); an SMTP
// server that refuses or hangs (UNAVAILABLE within the timeout, the failed send gives the cooldown
// back and leaves no valid code).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { cryptoRandom } from "../../src/adapters/system/random.ts";
import type { Random } from "../../src/ports/system.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { startRedis, type RedisHandle } from "../support/redis-server.ts";
import { grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";

const TRANSPORTS = ["rest", "grpc"] as const;
type Transport = (typeof TRANSPORTS)[number];

// All requests come from 127.0.0.1: keep the per-IP buckets out of the way (rate-limits.test.ts covers them).
const ROOMY = { IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "10000", IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "10000" };

let redis: RedisHandle;
let goodSink: SmtpSink;
let badSink: SmtpSink;
/** Hangs from the start: the pooled mailer of withHangingMail never has a greeted connection to reuse. */
let hangSink: SmtpSink;
/** Redis-backed, cooldown 0s. */
let withRedis: TestServer;
/** Memory store, default 60 s cooldown, mail to badSink with a 500 ms SMTP timeout. */
let withBadMail: TestServer;
/** Memory store, default 60 s cooldown, mail to hangSink with a 500 ms SMTP timeout. */
let withHangingMail: TestServer;
const drivers: Record<"redis" | "mail" | "hang", Record<Transport, Driver>> = {} as never;
/** Every code the mail server was asked to generate, in order (the real CSPRNG, only recorded). */
const issuedCodes: string[] = [];
const recordingRandom: Random = {
  ...cryptoRandom,
  digits: (length) => {
    const code = cryptoRandom.digits(length);
    issuedCodes.push(code);
    return code;
  },
};

beforeAll(async () => {
  [redis, goodSink, badSink, hangSink] = await Promise.all([startRedis(), startSmtpSink(), startSmtpSink(), startSmtpSink({ mode: "hang" })]);
  [withRedis, withBadMail, withHangingMail] = await Promise.all([
    startTestServer({ env: { ...smtpEnv(goodSink.port), ...ROOMY, IDENTRA_REDIS_URLS: redis.url, IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s" } }),
    startTestServer({ env: { ...smtpEnv(badSink.port), ...ROOMY, IDENTRA_SMTP_MAILER_TIMEOUT: "500ms" }, overrides: { random: recordingRandom } }),
    startTestServer({ env: { ...smtpEnv(hangSink.port), ...ROOMY, IDENTRA_SMTP_MAILER_TIMEOUT: "500ms" }, overrides: { random: recordingRandom } }),
  ]);
  drivers.hang = { rest: restDriver(withHangingMail.httpUrl), grpc: grpcDriver(withHangingMail.grpcAddress) };
  drivers.redis = { rest: restDriver(withRedis.httpUrl), grpc: grpcDriver(withRedis.grpcAddress) };
  drivers.mail = { rest: restDriver(withBadMail.httpUrl), grpc: grpcDriver(withBadMail.grpcAddress) };
});

afterAll(async () => {
  for (const group of Object.values(drivers)) for (const d of Object.values(group)) d.close();
  await Promise.allSettled([withRedis?.stop(), withBadMail?.stop(), withHangingMail?.stop()]);
  await Promise.allSettled([redis?.stop(), goodSink?.stop(), badSink?.stop(), hangSink?.stop()]);
});

let n = 0;
const freshEmail = (tag: string) => `fault.${tag}.${++n}.${Math.random().toString(36).slice(2, 8)}@example.com`;

const expectOk = (r: RpcResult) => {
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify({ ...r, headers: undefined })}`);
  return r.body;
};
const expectUnavailable = (r: RpcResult, naming: RegExp) => {
  expect(r).toMatchObject({ ok: false, grpcCode: 14, reason: "DEPENDENCY_UNAVAILABLE" });
  if (r.ok) return;
  expect(r.message).toMatch(naming);
  if (r.httpStatus !== undefined) expect(r.httpStatus).toBe(503);
};

const codeLogin = async (d: Driver, sink: SmtpSink, email: string) => {
  expectOk(await d.call("SendLoginEmailCode", { email }));
  const code = extractCode(await sink.waitFor(email));
  return expectOk(await d.call("LoginByEmailCode", { email, code }));
};

/** identra_rate_limiter_fail_open_total as the server's /metrics registry renders it. */
const failOpenCount = () => {
  const line = withRedis.app.metrics.registry.render().split("\n").find((l) => l.startsWith("identra_rate_limiter_fail_open_total"));
  return line ? Number(line.split(" ").at(-1)) : 0;
};

const readyz = async () => {
  const res = await fetch(`${withRedis.httpUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks?: Record<string, string> } };
};

const grpcHealth = (address: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const Health = grpc.makeGenericClientConstructor(
      {
        Check: {
          path: "/grpc.health.v1.Health/Check",
          requestStream: false,
          responseStream: false,
          // HealthCheckRequest{} / HealthCheckResponse{status = 1 (enum)}
          requestSerialize: () => Buffer.alloc(0),
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      "Health",
    );
    const client = new Health(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
    client.Check!({}, (err: grpc.ServiceError | null, res: Buffer) => {
      client.close();
      if (err) return reject(err);
      // field 1, varint: 0x08 <status>; status 0 (UNKNOWN) is the empty message.
      const status = res.length >= 2 && res[0] === 0x08 ? res[1]! : 0;
      resolve(["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][status] ?? String(status));
    });
  });

describe("redis-server stopped mid-test and restarted", () => {
  const registered: Record<Transport, { email: string; password: string }> = {} as never;

  test("with Redis up: code login works over both transports, /readyz 200, gRPC health SERVING", async () => {
    for (const transport of TRANSPORTS) {
      await codeLogin(drivers.redis[transport], goodSink, freshEmail(`up-${transport}`));
      const email = freshEmail(`pw-${transport}`);
      expectOk(await drivers.redis[transport].call("RegisterByPassword", { email, password: "password-123" }));
      registered[transport] = { email, password: "password-123" };
    }
    expect(await readyz()).toMatchObject({ status: 200, body: { status: "ok", checks: { database: "ok", redis: "ok" } } });
    expect(await grpcHealth(withRedis.grpcAddress)).toBe("SERVING");
  });

  describe("while redis-server is down", () => {
    beforeAll(async () => {
      await redis.stop();
    });

    for (const transport of TRANSPORTS) {
      test(`over ${transport}: SendLoginEmailCode and LoginByEmailCode are UNAVAILABLE naming redis`, async () => {
        const d = drivers.redis[transport];
        const email = freshEmail(`down-${transport}`);
        expectUnavailable(await d.call("SendLoginEmailCode", { email }), /redis/i);
        expectUnavailable(await d.call("LoginByEmailCode", { email, code: "123456" }), /redis/i);
      });

      test(`over ${transport}: password login still works (the limiter fails open)`, async () => {
        const d = drivers.redis[transport];
        const { email, password } = registered[transport];
        const failOpenBefore = failOpenCount();
        const body = expectOk(await d.call("LoginByPassword", { email, password }));
        expect(failOpenCount()).toBeGreaterThan(failOpenBefore); // let through, and counted
        expect(body.token.tokenType).toBe("Bearer");
        // A wrong password is still just wrong, and a new user can still be made.
        expect(await d.call("LoginByPassword", { email, password: "not-the-password" })).toMatchObject({ ok: false, grpcCode: 16, message: "invalid credentials" });
        expectOk(await d.call("LoginByPassword", { email: freshEmail(`auto-${transport}`), password: "password-456" }));
        // Refresh lives in the database, not in Redis.
        expectOk(await d.call("RefreshToken", { refreshToken: body.token.refreshToken.token }));
      });
    }

    test("/readyz answers 503 naming redis, /healthz still 200, gRPC health NOT_SERVING", async () => {
      expect(await readyz()).toMatchObject({ status: 503, body: { status: "unavailable", checks: { database: "ok", redis: "down" } } });
      expect((await fetch(`${withRedis.httpUrl}/healthz`)).status).toBe(200);
      expect(await grpcHealth(withRedis.grpcAddress)).toBe("NOT_SERVING");
    });
  });

  describe("after redis-server restarts on the same port (Identra not restarted)", () => {
    beforeAll(async () => {
      await redis.restart();
    });

    test("codes work again over both transports once the client has reconnected", async () => {
      const deadline = Date.now() + 15_000;
      const probe = freshEmail("probe");
      for (;;) {
        const r = await drivers.redis.rest.call("SendLoginEmailCode", { email: probe });
        if (r.ok) break;
        expectUnavailable(r, /redis/i);
        if (Date.now() > deadline) throw new Error("Identra did not reconnect to Redis within 15 s");
        await Bun.sleep(100);
      }
      await goodSink.waitFor(probe);
      for (const transport of TRANSPORTS) {
        const body = await codeLogin(drivers.redis[transport], goodSink, freshEmail(`back-${transport}`));
        expect(body.token.tokenType).toBe("Bearer");
      }
      expect(await readyz()).toMatchObject({ status: 200, body: { status: "ok", checks: { redis: "ok" } } });
      expect(await grpcHealth(withRedis.grpcAddress)).toBe("SERVING");
    });
  });
});

describe("SMTP faults", () => {
  for (const transport of TRANSPORTS) {
    const d = () => drivers.mail[transport];

    test(`over ${transport}: a refusing SMTP server → UNAVAILABLE; no code is left valid and the cooldown is given back`, async () => {
      const email = freshEmail(`refuse-${transport}`);
      badSink.setMode("refuse");
      const before = issuedCodes.length;
      try {
        expectUnavailable(await d().call("SendLoginEmailCode", { email }), /mail/i);
      } finally {
        badSink.setMode("accept");
      }
      expect(issuedCodes.length).toBe(before + 1);
      const lostCode = issuedCodes[before]!;
      expect(badSink.messages.some((m) => m.to === email)).toBe(false);
      // The code that never reached the user does not work.
      expect(await d().call("LoginByEmailCode", { email, code: lostCode })).toMatchObject({ ok: false, grpcCode: 16, message: "invalid or expired code" });
      // An immediate resend is not blocked by the 60 s cooldown, and its code works.
      expectOk(await d().call("SendLoginEmailCode", { email }));
      const code = extractCode(await badSink.waitFor(email));
      expectOk(await d().call("LoginByEmailCode", { email, code }));
    });

    test(`over ${transport}: a hanging SMTP server (timeout 500ms) → UNAVAILABLE, the request settles`, async () => {
      const email = freshEmail(`hang-${transport}`);
      const before = issuedCodes.length;
      const outcome = await Promise.race([
        drivers.hang[transport].call("SendLoginEmailCode", { email }),
        Bun.sleep(15_000).then(() => "still pending" as const),
      ]);
      expect(outcome).not.toBe("still pending");
      expectUnavailable(outcome as RpcResult, /mail/i);
      expect(issuedCodes.length).toBe(before + 1);
      const lostCode = issuedCodes[before]!;
      expect(await drivers.hang[transport].call("LoginByEmailCode", { email, code: lostCode })).toMatchObject({ ok: false, grpcCode: 16, message: "invalid or expired code" });
    });
  }

  test("after the hanging server recovers, mail flows again without restarting Identra (no cooldown left behind)", async () => {
    hangSink.setMode("accept");
    for (const transport of TRANSPORTS) {
      const email = freshEmail(`unhang-${transport}`);
      expectOk(await drivers.hang[transport].call("SendLoginEmailCode", { email }));
      const code = extractCode(await hangSink.waitFor(email));
      expectOk(await drivers.hang[transport].call("LoginByEmailCode", { email, code }));
    }
  });
});
