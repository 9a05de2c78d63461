// Issue 4 rate limits end to end over REST and gRPC: code-send cooldown and hourly limit, failed-login
// limit (password and code share it), per-email and per-client-IP buckets, X-Forwarded-For trusted
// only from http.trusted_proxies. Memory-store servers run on a manual clock (windows are moved by
// hand); the Redis servers show the same limits trip on a real redis-server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { createManualClock } from "../../src/adapters/system/clock.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { startRedis, type RedisHandle } from "../support/redis-server.ts";
import { createGrpcClient, grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";

const TRANSPORTS = ["rest", "grpc"] as const;
type Transport = (typeof TRANSPORTS)[number];
type Clock = ReturnType<typeof createManualClock>;

const TRUST_LOOPBACK = { IDENTRA_HTTP_TRUSTED_PROXIES: "127.0.0.1/32" };

const TOO_MANY_CODES = "too many verification code requests, please try again later";
const TOO_MANY_FAILED = "too many failed attempts, please try again later";

interface Target {
  server: TestServer;
  drivers: Record<Transport, Driver>;
  /** Null on the Redis servers (real time). */
  clock: Clock | null;
}

let sink: SmtpSink;
let redis: RedisHandle;
const servers: TestServer[] = [];
const openDrivers: Driver[] = [];
/** Behind a trusted proxy (127.0.0.1/32), default limits: each scenario picks its own client IPs. */
const trusted: Partial<Record<"memory" | "redis", Target>> = {};
/** Redis, trusted proxy, cooldown 0s (hourly limit without waiting). */
let redisNoCooldown: Target;
/** Memory, NO trusted proxies: every request is 127.0.0.1 whatever it claims. */
let untrusted: Target;

const target = async (env: Record<string, string>, clock: Clock | null): Promise<Target> => {
  const server = await startTestServer({ env: { ...smtpEnv(sink.port), ...env }, ...(clock ? { overrides: { clock } } : {}) });
  servers.push(server);
  const drivers = { rest: restDriver(server.httpUrl), grpc: grpcDriver(server.grpcAddress) };
  openDrivers.push(drivers.rest, drivers.grpc);
  return { server, drivers, clock };
};

beforeAll(async () => {
  [sink, redis] = await Promise.all([startSmtpSink(), startRedis()]);
  const withRedis = { ...TRUST_LOOPBACK, IDENTRA_REDIS_URLS: redis.url };
  [trusted.memory, trusted.redis, redisNoCooldown, untrusted] = await Promise.all([
    target(TRUST_LOOPBACK, createManualClock(Date.now())),
    target(withRedis, null),
    target({ ...withRedis, IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s" }, null),
    target({}, createManualClock(Date.now())),
  ]);
});

afterAll(async () => {
  openDrivers.forEach((d) => d.close());
  await Promise.allSettled(servers.map((s) => s.stop()));
  await Promise.allSettled([sink?.stop(), redis?.stop()]);
});

let n = 0;
const freshEmail = (tag: string) => `rl.${tag}.${++n}.${Math.random().toString(36).slice(2, 8)}@example.com`;
let ipSeq = 0;
/** A client IP no other scenario uses (so only this scenario's requests fill its bucket). */
const freshIp = () => {
  ipSeq++;
  return `10.${(ipSeq >> 8) & 255}.${ipSeq & 255}.${1 + (Math.floor(Math.random() * 250))}`;
};
const from = (ip: string) => ({ headers: { "x-forwarded-for": ip } });

const expectLimited = (r: RpcResult, message: string, maxRetryAfter: number, minRetryAfter = 1) => {
  expect(r).toMatchObject({ ok: false, grpcCode: 8, reason: "RATE_LIMITED", message });
  if (r.ok || r.httpStatus === undefined) return; // gRPC: metadata checked in its own test
  expect(r.httpStatus).toBe(429);
  const retryAfter = r.headers?.get("retry-after") ?? "";
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(minRetryAfter);
  expect(Number(retryAfter)).toBeLessThanOrEqual(maxRetryAfter);
};
const expectOk = (r: RpcResult) => {
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify({ ...r, headers: undefined })}`);
  return r.body;
};
const expectInvalid = (r: RpcResult, message: string) => expect(r).toMatchObject({ ok: false, grpcCode: 16, message });

for (const store of ["memory", "redis"] as const) {
  for (const transport of TRANSPORTS) {
    describe(`rate limits over ${transport} with the ${store} store`, () => {
      const t = () => trusted[store]!;
      const d = () => t().drivers[transport];

      test("code-send cooldown: a second send within 60 s is RESOURCE_EXHAUSTED with Retry-After (per email, any IP)", async () => {
        const email = freshEmail("cooldown");
        expectOk(await d().call("SendLoginEmailCode", { email }, from(freshIp())));
        await sink.waitFor(email);
        // From another client IP: the cooldown is per email.
        expectLimited(await d().call("SendLoginEmailCode", { email: `  ${email.toUpperCase()} ` }, from(freshIp())), TOO_MANY_CODES, 60);
        // Another email is not affected.
        expectOk(await d().call("SendLoginEmailCode", { email: freshEmail("cooldown-other") }, from(freshIp())));
        if (t().clock) {
          t().clock!.advance(60_000);
          expectOk(await d().call("SendLoginEmailCode", { email }, from(freshIp())));
          expect(extractCode(await sink.waitFor(email))).toMatch(/^\d{6}$/);
        }
      });

      test("failed-login limit per email: after 5 wrong passwords even the right one is refused", async () => {
        const email = freshEmail("fail-email");
        expectOk(await d().call("RegisterByPassword", { email, password: "right-password" }, from(freshIp())));
        for (let i = 0; i < 5; i++) {
          expectInvalid(await d().call("LoginByPassword", { email, password: `wrong-password-${i}` }, from(freshIp())), "invalid credentials");
        }
        // Fresh IP, right password: the email bucket alone refuses it.
        expectLimited(await d().call("LoginByPassword", { email, password: "right-password" }, from(freshIp())), TOO_MANY_FAILED, 15 * 60);
        // Code login for the same email is refused by the same counter.
        expectLimited(await d().call("LoginByEmailCode", { email, code: "123456" }, from(freshIp())), TOO_MANY_FAILED, 15 * 60);
        if (t().clock) {
          t().clock!.advance(15 * 60_000 + 1_000);
          expectOk(await d().call("LoginByPassword", { email, password: "right-password" }, from(freshIp())));
        }
      });

      test("password and code failures share the counter", async () => {
        const email = freshEmail("fail-shared");
        expectOk(await d().call("RegisterByPassword", { email, password: "right-password" }, from(freshIp())));
        for (let i = 0; i < 3; i++) expectInvalid(await d().call("LoginByPassword", { email, password: `wrong-${i}-pw` }, from(freshIp())), "invalid credentials");
        for (let i = 0; i < 2; i++) expectInvalid(await d().call("LoginByEmailCode", { email, code: `00000${i}` }, from(freshIp())), "invalid or expired code");
        expectLimited(await d().call("LoginByPassword", { email, password: "right-password" }, from(freshIp())), TOO_MANY_FAILED, 15 * 60);
      });

      test("a successful login resets the email's failure count", async () => {
        const email = freshEmail("fail-reset");
        const ip = freshIp();
        expectOk(await d().call("RegisterByPassword", { email, password: "right-password" }, from(ip)));
        for (let i = 0; i < 4; i++) expectInvalid(await d().call("LoginByPassword", { email, password: `wrong-${i}-pw` }, from(freshIp())), "invalid credentials");
        expectOk(await d().call("LoginByPassword", { email, password: "right-password" }, from(ip)));
        for (let i = 0; i < 4; i++) expectInvalid(await d().call("LoginByPassword", { email, password: `wrong-${i}-pw` }, from(freshIp())), "invalid credentials");
        expectOk(await d().call("LoginByPassword", { email, password: "right-password" }, from(ip)));
      });

      test("a burst of concurrent wrong passwords gets no more than 5 guesses checked", async () => {
        const email = freshEmail("fail-burst");
        expectOk(await d().call("RegisterByPassword", { email, password: "right-password" }, from(freshIp())));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => d().call("LoginByPassword", { email, password: `wrong-${i}-pw` }, from(freshIp()))),
        );
        const checked = results.filter((r) => !r.ok && r.grpcCode === 16);
        const limited = results.filter((r) => !r.ok && r.grpcCode === 8);
        expect(checked).toHaveLength(5);
        expect(limited).toHaveLength(15);
        for (const r of checked) expectInvalid(r, "invalid credentials");
        for (const r of limited) expectLimited(r, TOO_MANY_FAILED, 15 * 60);
        expectLimited(await d().call("LoginByPassword", { email, password: "right-password" }, from(freshIp())), TOO_MANY_FAILED, 15 * 60);
      });

      test("a burst of concurrent code sends from one client IP sends no more than 5", async () => {
        const ip = freshIp();
        const results = await Promise.all(
          Array.from({ length: 12 }, () => d().call("SendLoginEmailCode", { email: freshEmail("send-burst") }, from(ip))),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(5);
        for (const r of results.filter((x) => !x.ok)) expectLimited(r, TOO_MANY_CODES, 3600);
      });

      test("trusted proxy: X-Forwarded-For is the client IP, and two values get separate failed-login buckets", async () => {
        const [ipA, ipB] = [freshIp(), freshIp()];
        const emails = Array.from({ length: 7 }, () => freshEmail("fail-ip"));
        for (const email of emails) expectOk(await d().call("RegisterByPassword", { email, password: "right-password" }, from(freshIp())));
        // Five different emails fail once each from A: only A's IP bucket fills.
        for (const email of emails.slice(0, 5)) expectInvalid(await d().call("LoginByPassword", { email, password: "wrong-password" }, from(ipA)), "invalid credentials");
        expectLimited(await d().call("LoginByPassword", { email: emails[5]!, password: "right-password" }, from(ipA)), TOO_MANY_FAILED, 15 * 60);
        // The proxy chain: the right-most untrusted hop is the client.
        expectLimited(await d().call("LoginByPassword", { email: emails[5]!, password: "right-password" }, from(`203.0.113.9, ${ipA}`)), TOO_MANY_FAILED, 15 * 60);
        // B is a different client.
        expectOk(await d().call("LoginByPassword", { email: emails[6]!, password: "right-password" }, from(ipB)));
      });

      test("trusted proxy: the hourly code-send limit per client IP (5 sends, different emails)", async () => {
        const [ipA, ipB] = [freshIp(), freshIp()];
        for (let i = 0; i < 5; i++) expectOk(await d().call("SendLoginEmailCode", { email: freshEmail("send-ip") }, from(ipA)));
        expectLimited(await d().call("SendLoginEmailCode", { email: freshEmail("send-ip") }, from(ipA)), TOO_MANY_CODES, 3600, 61);
        expectOk(await d().call("SendLoginEmailCode", { email: freshEmail("send-ip") }, from(ipB)));
        if (t().clock) {
          t().clock!.advance(3600_000);
          expectOk(await d().call("SendLoginEmailCode", { email: freshEmail("send-ip") }, from(ipA)));
        }
      });
    });
  }
}

for (const transport of TRANSPORTS) {
  describe(`hourly code-send limit per email over ${transport}`, () => {
    test("memory store: 5 sends an hour (cooldown passed by the clock), the 6th is refused until the window ends", async () => {
      const t = trusted.memory!;
      const d = t.drivers[transport];
      const email = freshEmail("hourly-mem");
      for (let i = 0; i < 5; i++) {
        expectOk(await d.call("SendLoginEmailCode", { email }, from(freshIp())));
        t.clock!.advance(61_000);
      }
      expectLimited(await d.call("SendLoginEmailCode", { email }, from(freshIp())), TOO_MANY_CODES, 3600, 3600 - 6 * 61);
      t.clock!.advance(3600_000 - 5 * 61_000 + 1_000);
      expectOk(await d.call("SendLoginEmailCode", { email }, from(freshIp())));
    });

    test("redis store with cooldown 0s: the 6th send within the hour is refused", async () => {
      const d = redisNoCooldown.drivers[transport];
      const email = freshEmail("hourly-redis");
      for (let i = 0; i < 5; i++) expectOk(await d.call("SendLoginEmailCode", { email }, from(freshIp())));
      expectLimited(await d.call("SendLoginEmailCode", { email }, from(freshIp())), TOO_MANY_CODES, 3600, 3500);
      for (let i = 0; i < 5; i++) await sink.waitFor(email);
    });
  });

  describe(`untrusted peer over ${transport}: a spoofed X-Forwarded-For changes nothing`, () => {
    const d = () => untrusted.drivers[transport];
    const reset = () => untrusted.clock!.advance(2 * 3600_000); // every bucket of 127.0.0.1 starts empty

    test("code sends with different spoofed X-Forwarded-For / X-Real-IP share the 127.0.0.1 bucket", async () => {
      reset();
      for (let i = 0; i < 5; i++) {
        const spoof = { headers: { "x-forwarded-for": freshIp(), "x-real-ip": freshIp() } };
        expectOk(await d().call("SendLoginEmailCode", { email: freshEmail("spoof-send") }, spoof));
      }
      expectLimited(await d().call("SendLoginEmailCode", { email: freshEmail("spoof-send") }, from(freshIp())), TOO_MANY_CODES, 3600, 61);
      expectLimited(await d().call("SendLoginEmailCode", { email: freshEmail("spoof-send") }), TOO_MANY_CODES, 3600, 61);
    });

    test("failed logins with different spoofed X-Forwarded-For share the 127.0.0.1 bucket", async () => {
      reset();
      const emails = Array.from({ length: 6 }, () => freshEmail("spoof-fail"));
      for (const email of emails) expectOk(await d().call("RegisterByPassword", { email, password: "right-password" }));
      for (const email of emails.slice(0, 5)) {
        expectInvalid(await d().call("LoginByPassword", { email, password: "wrong-password" }, from(freshIp())), "invalid credentials");
      }
      expectLimited(await d().call("LoginByPassword", { email: emails[5]!, password: "right-password" }, from(freshIp())), TOO_MANY_FAILED, 15 * 60);
      // The window ends by the clock.
      untrusted.clock!.advance(15 * 60_000 + 1_000);
      expectOk(await d().call("LoginByPassword", { email: emails[5]!, password: "right-password" }, from(freshIp())));
    });
  });
}

test("gRPC: RESOURCE_EXHAUSTED carries reason RATE_LIMITED and a retry-after in the trailers", async () => {
  const client = createGrpcClient(trusted.memory!.server.grpcAddress);
  try {
    const email = freshEmail("grpc-trailer");
    const call = (): Promise<grpc.ServiceError | null> =>
      new Promise((resolve) => {
        const md = new grpc.Metadata();
        md.set("x-forwarded-for", freshIp());
        client.SendLoginEmailCode({ email }, md, (err: grpc.ServiceError | null) => resolve(err));
      });
    expect(await call()).toBeNull();
    const err = await call();
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.details).toBe(TOO_MANY_CODES);
    expect(err?.metadata.get("x-error-reason")).toEqual(["RATE_LIMITED"]);
    const retryAfter = Number(err?.metadata.get("retry-after")[0]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  } finally {
    client.close();
  }
});
