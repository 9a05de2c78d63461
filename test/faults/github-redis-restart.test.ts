// Issue 8 faults not covered elsewhere. Already covered (not repeated here):
// - redis-server stopped (SIGTERM) and restarted, SMTP refusing and hanging: test/integration/faults-redis-smtp.test.ts
// - GitHub answering 5xx, too slow, unreachable: test/integration/oauth-flow.test.ts, oauth-config.test.ts,
//   github-provider.test.ts
// New here, against a server PROCESS under continuous load over REST and gRPC:
// - Redis FROZEN (SIGSTOP: the socket stays open, nothing answers): Redis-backed calls (OAuth
//   state, e-mail code) answer UNAVAILABLE within the 1 s command timeout (+ margin) instead of
//   hanging; password logins keep succeeding (their limiter fails open), but each takes ~3 s, as
//   its three limiter calls wait for the timeout one after another; /readyz says redis is down;
//   after SIGCONT everything answers again without a restart.
// - Redis KILLED (SIGKILL, no goodbye on the socket) and a new redis-server started on the same
//   port: the same, and nothing that lives in SQLite is lost (the sessions refresh afterwards).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/free-port.ts";
import { grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";
import { startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";
import { spawnServer, type SpawnedServer } from "../support/spawn-server.ts";
import { acceptsConnections, brief, okBody, ROOMY_LIMITS, tempDatabase } from "./support.ts";

const REDIRECT = "http://127.0.0.1:5173/oauth/callback";
const COMMAND_TIMEOUT_MS = 1000; // src/adapters/redis/client.ts
/**
 * The longest an answer may take while Redis does not answer: one command timeout for a Redis-backed
 * call (it fails on the first), three for a successful password login, which makes three limiter
 * calls in turn (check, reserve, clear), each failing open only after its own timeout.
 */
const SLOWEST_ALLOWED_MS: Record<string, number> = { oauthUrl: COMMAND_TIMEOUT_MS + 1000, codeSend: COMMAND_TIMEOUT_MS + 1000, password: 3 * COMMAND_TIMEOUT_MS + 1000 };

/** A redis-server we can freeze and kill by pid (test/support/redis-server.ts only stops politely). */
class OwnRedis {
  proc: Subprocess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), "identra-redis-fault-"));
  constructor(readonly port: number) {}
  async start(): Promise<void> {
    this.proc = Bun.spawn(["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir], { stdout: "ignore", stderr: "ignore" });
    const deadline = performance.now() + 10_000;
    while (!(await acceptsConnections(this.port, 200))) {
      if (performance.now() > deadline) throw new Error("redis-server did not start");
      await Bun.sleep(25);
    }
  }
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }
  async kill(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    this.proc = null;
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const db = tempDatabase("redisfault");
let redis: OwnRedis;
let smtp: SmtpSink;
let server: SpawnedServer;
let ds: Driver[];

beforeAll(async () => {
  if (!Bun.which("redis-server")) throw new Error("redis-server is not on PATH (apt-get install -y redis-server)");
  redis = new OwnRedis(await freePort());
  await redis.start();
  smtp = await startSmtpSink();
  server = await spawnServer({
    env: {
      ...ROOMY_LIMITS,
      IDENTRA_PERSISTENCE_SQLITE_PATH: db.path,
      IDENTRA_REDIS_URLS: `redis://127.0.0.1:${redis.port}`,
      IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s",
      IDENTRA_AUTH_GITHUB_CLIENT_ID: "fault-client",
      IDENTRA_AUTH_GITHUB_CLIENT_SECRET: "fault-secret",
      ...smtpEnv(smtp.port),
    },
  });
  ds = [restDriver(server.httpUrl), grpcDriver(server.grpcAddress)];
});
afterAll(async () => {
  ds?.forEach((d) => d.close());
  await server?.stop("SIGKILL");
  redis?.signal("SIGCONT");
  await redis?.kill();
  redis?.remove();
  await smtp?.stop();
  db.remove();
});

type Kind = "password" | "oauthUrl" | "codeSend";
interface Answer {
  kind: Kind;
  transport: string;
  at: number;
  ms: number;
  r: RpcResult;
}

let n = 0;
/** One round: each kind once per transport, in parallel. */
async function round(accounts: { email: string; password: string }[]): Promise<Answer[]> {
  const calls: [Kind, Driver, () => Promise<RpcResult>][] = ds.flatMap((d, i) => [
    ["password", d, () => d.call("LoginByPassword", accounts[i]!)] as [Kind, Driver, () => Promise<RpcResult>],
    ["oauthUrl", d, () => d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT })],
    ["codeSend", d, () => d.call("SendLoginEmailCode", { email: `code-${++n}-${Date.now()}@example.com` })],
  ]);
  return Promise.all(
    calls.map(async ([kind, d, call]) => {
      const t0 = performance.now();
      const r = await call();
      return { kind, transport: d.transport, at: t0, ms: performance.now() - t0, r };
    }),
  );
}

/** Rounds back to back until `until()`; returns every answer. */
async function loadWhile(accounts: { email: string; password: string }[], until: () => boolean): Promise<Answer[]> {
  const all: Answer[] = [];
  while (!until()) all.push(...(await round(accounts)));
  return all;
}

const isUnavailable = (r: RpcResult) => !r.ok && r.grpcCode === 14 && r.reason === "DEPENDENCY_UNAVAILABLE" && /redis/.test(r.message) && (r.httpStatus === undefined || r.httpStatus === 503);

/** Rounds until one is all-ok; the time that took (the recovery time). */
async function untilRecovered(accounts: { email: string; password: string }[], limitMs: number): Promise<{ ms: number; seen: Answer[] }> {
  const t0 = performance.now();
  const seen: Answer[] = [];
  for (;;) {
    const answers = await round(accounts);
    seen.push(...answers);
    if (answers.every((a) => a.r.ok)) return { ms: Math.round(performance.now() - t0), seen };
    if (performance.now() - t0 > limitMs) throw new Error(`not recovered after ${limitMs} ms: ${answers.filter((a) => !a.r.ok).map((a) => `${a.transport} ${a.kind} ${brief(a.r)}`).join("; ")}`);
    await Bun.sleep(100);
  }
}

/** Every answer is a success or a clean UNAVAILABLE naming redis, and none took too long. */
function expectClean(answers: Answer[]): void {
  const bad = answers.filter((a) => !(a.r.ok || isUnavailable(a.r)) || a.ms > SLOWEST_ALLOWED_MS[a.kind]!);
  expect(bad.map((a) => `${a.transport} ${a.kind} ${Math.round(a.ms)}ms ${brief(a.r)}`)).toEqual([]);
}

const summarize = (answers: Answer[]) => {
  const by = (k: Kind) => answers.filter((a) => a.kind === k);
  return Object.fromEntries(
    (["password", "oauthUrl", "codeSend"] as Kind[]).map((k) => [k, { ok: by(k).filter((a) => a.r.ok).length, unavailable: by(k).filter((a) => isUnavailable(a.r)).length, maxMs: Math.round(Math.max(0, ...by(k).map((a) => a.ms))) }]),
  );
};

const signUp = async () =>
  Promise.all(
    ds.map(async (d) => {
      const a = { email: `redis-fault-${d.transport}-${Date.now()}@example.com`, password: "redis-fault-password" };
      const body = okBody(await d.call("RegisterByPassword", a), "register");
      return { ...a, refresh: body.token.refreshToken.token as string };
    }),
  );

test(
  "Redis frozen with SIGSTOP under load: clean UNAVAILABLE within the command timeout, password logins go on; SIGCONT recovers without restart",
  async () => {
    const accounts = await signUp();
    const before = await round(accounts);
    expect(before.filter((a) => !a.r.ok).map((a) => brief(a.r))).toEqual([]);

    redis.signal("SIGSTOP");
    const frozenAt = performance.now();
    const during = await loadWhile(accounts, () => performance.now() - frozenAt > 4000);
    const readyz = await fetch(`${server.httpUrl}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toContain("redis");
    expect(await (await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);

    redis.signal("SIGCONT");
    const recovery = await untilRecovered(accounts, 10_000);
    expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);

    expectClean([...during, ...recovery.seen]);
    const s = summarize(during);
    expect(s.password!.unavailable).toBe(0); // fail-open limiter: logins never depend on Redis
    expect(s.password!.ok).toBeGreaterThan(0);
    expect(s.oauthUrl!.unavailable).toBeGreaterThan(0);
    expect(s.codeSend!.unavailable).toBeGreaterThan(0);
    expect(server.proc.exitCode).toBeNull();
    console.log(JSON.stringify({ check: "redis-sigstop", frozenMs: 4000, during: s, recoveredMsAfterSigcont: recovery.ms }));
  },
  60_000,
);

test(
  "Redis killed with SIGKILL under load and a new one started on the same port: clean UNAVAILABLE meanwhile, recovery without restart, SQLite data intact",
  async () => {
    const accounts = await signUp();
    const load: Answer[] = [];
    let stop = false;
    const running = loadWhile(accounts, () => stop).then((a) => load.push(...a));
    await Bun.sleep(300);
    await redis.kill();
    const killedAt = performance.now();
    await Bun.sleep(2500);
    await redis.start(); // a fresh, empty redis-server on the same port
    const restartedAt = performance.now();
    stop = true;
    await running;
    const recovery = await untilRecovered(accounts, 15_000);

    expectClean([...load, ...recovery.seen]);
    const down = load.filter((a) => a.at > killedAt + 50 && a.at + a.ms < restartedAt);
    const s = summarize(down);
    expect(s.password!.unavailable).toBe(0);
    expect(s.oauthUrl!.unavailable + s.codeSend!.unavailable).toBeGreaterThan(0);
    // The sessions (SQLite) are untouched by the Redis loss: each refreshes.
    for (const [i, d] of ds.entries()) okBody(await d.call("RefreshToken", { refreshToken: accounts[i]!.refresh }), `${d.transport} refresh after the Redis loss`);
    expect(server.proc.exitCode).toBeNull();
    console.log(JSON.stringify({ check: "redis-sigkill", downMs: Math.round(restartedAt - killedAt), whileDown: s, recoveredMsAfterRestart: recovery.ms }));
  },
  60_000,
);
