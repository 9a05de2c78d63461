// Redis Cluster failover under an in-process Identra (real adapters, REST and gRPC) configured with
// every node of a real 3-master / 3-replica cluster (redis.urls, cluster-node-timeout 1000 ms).
// The master that owns an e-mail code key (`identra:code:<email>`: src/app.ts keyPrefix +
// src/services/email-code-login.ts) is SIGKILLed; its replica takes over a few seconds later.
// - Before: code login (code read from a real SMTP sink) and password login work.
// - During (kill → every surviving node reports cluster_state:ok with the replica promoted): code
//   sends, logins with codes sent before the kill, and password logins, for addresses whose code key
//   lives on the killed master; each answers within a bounded time with success or the contract's
//   UNAVAILABLE — never INTERNAL, never INVALID_CODE for a good code, never a hang; password logins
//   always succeed (their rate limiter fails open).
// - After: a new code for the same address is sent and accepted again within a bounded time,
//   without restarting Identra; codes sent before the kill (replicated before it) still log in;
//   password login, /readyz and code login over both transports work.
// The rate-limit keys (rl:code:*, rl:fail:*, code-tries:*) hash elsewhere; while the cluster is
// down (cluster-require-full-coverage, the default) they fail too, which the answers cover.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RedisEphemeralStore } from "../../src/adapters/redis/index.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { startRedisCluster, type KilledMaster, type RedisClusterHandle } from "../support/redis-cluster.ts";
import { grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";
import { brief, okBody, ROOMY_LIMITS } from "./support.ts";

/** The longest any single answer may take while the cluster fails over (generous; not a performance figure). */
const ANSWER_BOUND_MS = 3000;
/** A call still pending after this long is recorded as a hang (so a hang fails the test with a message, not a timeout). */
const HANG_MS = 10_000;
/** How long after cluster_state:ok a code login must work again. */
const RECOVERY_BOUND_MS = 15_000;

const codeKey = (email: string) => `identra:code:${email}`;

let cluster: RedisClusterHandle;
let smtp: SmtpSink;
let server: TestServer;
let ds: Driver[];
let victim: string;
let killed: KilledMaster;
let failover: Awaited<ReturnType<RedisClusterHandle["waitForFailover"]>>;
/** performance.now() when waitForFailover saw cluster_state:ok with the replica promoted. */
let clusterOkAt: number;
const accounts: { email: string; password: string }[] = [];

beforeAll(async () => {
  if (!Bun.which("redis-server")) throw new Error("redis-server is not on PATH (apt-get install -y redis-server)");
  [cluster, smtp] = await Promise.all([startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 }), startSmtpSink()]);
  server = await startTestServer({
    env: { ...ROOMY_LIMITS, ...smtpEnv(smtp.port), IDENTRA_REDIS_URLS: cluster.urls.join(","), IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s" },
  });
  ds = [restDriver(server.httpUrl), grpcDriver(server.grpcAddress)];
}, 30_000);

afterAll(async () => {
  ds?.forEach((d) => d.close());
  await server?.stop();
  await Promise.allSettled([cluster?.stop(), smtp?.stop()]);
});

type Step = "send" | "login" | "oldCode" | "password";
interface Answer {
  step: Step;
  transport: string;
  /** ms since the master was killed when the call started. */
  at: number;
  ms: number;
  r: RpcResult | "hung";
}

async function timed(step: Step, d: Driver, rpc: string, body: Record<string, unknown>): Promise<Answer> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([d.call(rpc, body), new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), HANG_MS)))]);
  clearTimeout(timer);
  return { step, transport: d.transport, at: Math.round(t0 - (killed?.killedAt ?? t0)), ms: Math.round(performance.now() - t0), r };
}

const isOk = (a: Answer) => a.r !== "hung" && a.r.ok;
/** The contract's UNAVAILABLE: gRPC 14 / HTTP 503, reason DEPENDENCY_UNAVAILABLE, naming redis. */
const isUnavailable = (a: Answer) =>
  a.r !== "hung" && !a.r.ok && a.r.grpcCode === 14 && a.r.reason === "DEPENDENCY_UNAVAILABLE" && /redis/.test(a.r.message) && (a.transport === "grpc" ? a.r.httpStatus === undefined : a.r.httpStatus === 503);
const show = (a: Answer) => `${a.transport} ${a.step} at +${a.at}ms took ${a.ms}ms: ${a.r === "hung" ? "HUNG" : brief(a.r)}`;

/** Send a code; when that succeeded, read it from the mail and log in with it. */
async function codeFlow(d: Driver, email: string): Promise<Answer[]> {
  const send = await timed("send", d, "SendLoginEmailCode", { email });
  if (!isOk(send)) return [send];
  const code = extractCode(await smtp.waitFor(email, 5000));
  return [send, await timed("login", d, "LoginByEmailCode", { email, code })];
}

/** Fresh addresses whose code key hashes to one of `slots` (CLUSTER KEYSLOT, in batches). */
function addressesIn(slots: [number, number][]): () => Promise<string> {
  const pool: string[] = [];
  let n = 0;
  return async () => {
    while (pool.length === 0) {
      const batch = Array.from({ length: 64 }, () => `failover-${++n}-${Math.random().toString(36).slice(2, 8)}@example.com`);
      const keySlots = await cluster.keySlots(batch.map(codeKey));
      pool.push(...batch.filter((_, i) => slots.some(([a, b]) => a <= keySlots[i]! && keySlots[i]! <= b)));
    }
    return pool.shift()!;
  };
}

/** Every answer is a success or a clean UNAVAILABLE, and none took longer than the bound. */
function expectClean(answers: Answer[]): void {
  const bad = answers.filter((a) => !(isOk(a) || isUnavailable(a)) || a.ms >= ANSWER_BOUND_MS);
  expect(bad.map(show)).toEqual([]);
}

const summarize = (answers: Answer[]) =>
  Object.fromEntries(
    (["send", "login", "oldCode", "password"] as Step[]).map((step) => {
      const of = answers.filter((a) => a.step === step);
      return [step, { ok: of.filter(isOk).length, unavailable: of.filter(isUnavailable).length, other: of.filter((a) => !isOk(a) && !isUnavailable(a)).length, maxMs: Math.max(0, ...of.map((a) => a.ms)) }];
    }),
  );

describe("Redis Cluster: the master holding the code key is SIGKILLed and its replica promoted", () => {
  test("before: code login and password login work over both transports", async () => {
    victim = `failover-victim-${Date.now()}@example.com`;
    for (const d of ds) {
      const answers = await codeFlow(d, victim);
      expect(answers.filter((a) => !isOk(a)).map(show)).toEqual([]);
      expect(answers).toHaveLength(2);
      const account = { email: `failover-pw-${d.transport}-${Date.now()}@example.com`, password: "failover-password" };
      okBody(await d.call("RegisterByPassword", account), `${d.transport} register`);
      accounts.push(account);
    }
    expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
  });

  /** Per transport: codes sent (and read from the mail) before the kill, for addresses on the killed master. */
  const oldCodes: { email: string; code: string }[][] = [];
  const during: Answer[] = [];
  test("during the failover: every answer is success or UNAVAILABLE within the bound; password logins succeed", async () => {
    const owner = await cluster.masterOf(codeKey(victim));
    const nextAddress = addressesIn(owner.slots);
    // Where the victim's keys live (src/services/email-code-login.ts, rate-limiter.ts): they spread.
    const victimKeys = { code: codeKey(victim), tries: `identra:code-tries:${victim}`, cooldown: `identra:rl:code:cooldown:${victim}`, sendsByEmail: `identra:rl:code:e:${victim}`, sendsByIp: "identra:rl:code:ip:127.0.0.1", failsByEmail: `identra:rl:fail:e:${victim}`, failsByIp: "identra:rl:fail:ip:127.0.0.1" };
    const passwordKeys = Object.fromEntries(accounts.map((a, i) => [`failsByEmail(${ds[i]!.transport} password account)`, `identra:rl:fail:e:${a.email}`]));
    const keySpread = Object.fromEntries(await Promise.all(Object.entries({ ...victimKeys, ...passwordKeys }).map(async ([name, key]) => [name, (await cluster.masterOf(key)).port])));
    for (const d of ds) {
      const codes: { email: string; code: string }[] = [];
      for (let i = 0; i < 8; i++) {
        const email = await nextAddress();
        okBody(await d.call("SendLoginEmailCode", { email }), `${d.transport} send before the kill`);
        codes.push({ email, code: extractCode(await smtp.waitFor(email, 5000)) });
      }
      oldCodes.push(codes);
    }
    killed = await cluster.killMasterOf(codeKey(victim));
    expect(killed.port).toBe(owner.port);

    let failedOver = false;
    const waiting = cluster.waitForFailover(killed, 20_000).finally(() => {
      failedOver = true;
      clusterOkAt = performance.now();
    });
    while (!failedOver) {
      const rounds = await Promise.all([
        ...ds.map(async (d) => codeFlow(d, await nextAddress())),
        ...ds.map(async (d, i) => {
          const old = oldCodes[i]!.length > 2 ? oldCodes[i]!.shift() : undefined; // keep two for after the failover
          return old ? [await timed("oldCode", d, "LoginByEmailCode", old)] : [];
        }),
        ...ds.map(async (d, i) => [await timed("password", d, "LoginByPassword", accounts[i]!)]),
      ]);
      during.push(...rounds.flat());
      await Bun.sleep(100);
    }
    failover = await waiting;

    expectClean(during);
    const s = summarize(during);
    // The loss was felt: sends and logins for addresses on the killed master could not be served for a while.
    expect(s.send!.unavailable).toBeGreaterThan(0);
    expect(s.oldCode!.unavailable).toBeGreaterThan(0);
    // Password login never depends on Redis (its limiter fails open).
    expect(s.password!.unavailable + s.password!.other).toBe(0);
    expect(s.password!.ok).toBeGreaterThan(0);
    expect(failover.newMaster.id).not.toBe(killed.id);
    console.log(JSON.stringify({ check: "redis-cluster-failover/during", keySpread, killedPort: killed.port, newMasterPort: failover.newMaster.port, failoverMs: failover.msSinceKill, during: s, timeline: during.map((a) => `${a.transport} ${a.step} +${a.at}ms ${a.ms}ms ${isOk(a) ? "ok" : isUnavailable(a) ? "UNAVAILABLE" : "OTHER"}`), lastRedisError: (server.app.ephemeral as RedisEphemeralStore).lastError()?.message ?? null }));
  }, 40_000);

  test("after the failover: a new code for the same address works again within the bound, without restarting Identra", async () => {
    expect(failover).toBeDefined();
    const t0 = clusterOkAt;
    const seen: Answer[] = [];
    let recoveredMs: number | null = null;
    while (recoveredMs === null) {
      const answers = await codeFlow(ds[0]!, victim);
      seen.push(...answers);
      if (answers.length === 2 && answers.every(isOk)) recoveredMs = Math.round(performance.now() - t0);
      else if (performance.now() - t0 > RECOVERY_BOUND_MS) throw new Error(`code login did not work again within ${RECOVERY_BOUND_MS} ms after cluster_state:ok: ${answers.map(show).join("; ")}`);
      else await Bun.sleep(100);
    }
    expectClean(seen);

    // Both transports, the same address and a new one on the promoted master; password login.
    const nextAddress = addressesIn(killed.slots);
    const confirm: Answer[] = [];
    for (const [i, d] of ds.entries()) {
      confirm.push(...(await codeFlow(d, victim)), ...(await codeFlow(d, await nextAddress())));
      confirm.push(await timed("password", d, "LoginByPassword", accounts[i]!));
    }
    // Codes sent before the kill and not tried meanwhile were replicated: they still log in.
    for (const [i, d] of ds.entries()) for (const old of oldCodes[i]!) confirm.push(await timed("oldCode", d, "LoginByEmailCode", old));
    expect(confirm.filter((a) => !isOk(a)).map(show)).toEqual([]);
    expect(confirm.filter((a) => a.step === "send" || a.step === "login")).toHaveLength(8);
    expect(confirm.filter((a) => a.step === "oldCode").length).toBeGreaterThanOrEqual(4);
    expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
    console.log(JSON.stringify({ check: "redis-cluster-failover/after", codeLoginBackMsAfterClusterOk: recoveredMs, msSinceKill: failover.msSinceKill + recoveredMs, attempts: seen.filter((a) => a.step === "send").length, after: summarize(seen) }));
  }, 30_000);
});
