// Issue 8 faults: SIGTERM drains. A server PROCESS with a costly Argon2 setting (m=64 MiB, t=3:
// each hash ~125 ms alone here, ten of them queue for ~1.5 s on 2 cores) and a GitHub that answers
// after 1.5 s has registrations and GitHub logins in flight over REST and gRPC when SIGTERM arrives:
// every one of them completes successfully, new connections are refused on both ports right after
// the signal, the process exits 0 within its 10 s grace, and what the drained requests wrote is in
// the database when the server is started again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { startFakeGitHub, type FakeGitHub, githubEnv } from "../support/fake-github.ts";
import { grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";
import { spawnServer, type SpawnedServer } from "../support/spawn-server.ts";
import { acceptsConnections, brief, mapLimit, ROOMY_LIMITS, tempDatabase } from "./support.ts";

const GRACE_MS = 10_000; // src/main.ts
const GITHUB_DELAY_MS = 1500;
const REDIRECT = "http://127.0.0.1:5173/oauth/callback";

const db = tempDatabase("sigterm");
let github: FakeGitHub;
const servers: SpawnedServer[] = [];

beforeAll(async () => {
  github = await startFakeGitHub();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop("SIGKILL")));
  await github?.stop();
  db.remove();
});

const env = (): Record<string, string> => ({
  ...ROOMY_LIMITS,
  IDENTRA_PERSISTENCE_SQLITE_PATH: db.path,
  IDENTRA_AUTH_PASSWORD_ARGON2_MEMORY_COST: "65536",
  IDENTRA_AUTH_PASSWORD_ARGON2_TIME_COST: "3",
  ...githubEnv(github),
  IDENTRA_AUTH_GITHUB_TIMEOUT: "5s",
  IDENTRA_LOG_LEVEL: "info",
});

async function start(): Promise<SpawnedServer> {
  const s = await spawnServer({ env: env() });
  servers.push(s);
  return s;
}

const sub = (r: RpcResult) => (r.ok ? (decodeJwt(r.body.token.accessToken.token).sub as string) : "");

test(
  "SIGTERM with slow requests in flight on both transports: all complete, new connections refused, exit 0 within the grace",
  async () => {
    const s = await start();
    const ds: Driver[] = [restDriver(s.httpUrl), grpcDriver(s.grpcAddress)];
    // Open the connections first, so every request below is on the wire before the signal.
    await Promise.all(ds.map((d) => d.call("ListOAuthProviders")));
    const gh = ["rest", "grpc"].map((t, i) => {
      const login = `drain-gh-${t}-${Date.now()}`;
      github.addUser({ id: 81_000_000 + i, login, emails: [{ email: `${login}@gh.example.com`, verified: true, primary: true }] });
      return login;
    });
    // The OAuth state comes first (fast); only the exchange with the slow GitHub is left in flight.
    const oauth = await Promise.all(
      ds.map(async (d, i) => {
        const url = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
        if (!url.ok) throw new Error(`GetOAuthAuthorizationURL: ${brief(url)}`);
        const u = new URL(url.body.url);
        u.searchParams.set("login", gh[i]!);
        const res = await fetch(u, { redirect: "manual" });
        await res.body?.cancel();
        return { code: new URL(res.headers.get("location")!).searchParams.get("code")!, state: url.body.state as string };
      }),
    );
    github.setBehavior({ delayMs: GITHUB_DELAY_MS });

    const accounts = Array.from({ length: 10 }, (_, i) => ({ email: `drain-${i}-${Date.now()}@example.com`, password: `drain-password-${i}` }));
    const finishedAt: number[] = [];
    const timed = async (p: Promise<RpcResult>) => {
      const r = await p;
      finishedAt.push(performance.now());
      return r;
    };
    const inFlight = [
      ...accounts.map((a, i) => timed(ds[i % 2]!.call("RegisterByPassword", a))),
      ...oauth.map((o, i) => timed(ds[i]!.call("LoginByOAuth", o))),
    ];
    await Bun.sleep(150);
    const signalledAt = performance.now();
    s.proc.kill("SIGTERM");
    await Bun.sleep(100);
    const [httpPort, grpcPort] = [Number(new URL(s.httpUrl).port), Number(s.grpcAddress.split(":")[1])];
    const refused = { http: !(await acceptsConnections(httpPort)), grpc: !(await acceptsConnections(grpcPort)) };
    const checkedAt = performance.now();

    const results = await Promise.all(inFlight);
    const code = await s.proc.exited;
    const exitedAt = performance.now();
    ds.forEach((d) => d.close());

    const failures = results.filter((r) => !r.ok).map(brief);
    const afterSignal = finishedAt.filter((t) => t > signalledAt).length;
    const line = {
      check: "sigterm-drain",
      inFlight: results.length,
      succeeded: results.length - failures.length,
      finishedAfterSignal: afterSignal,
      finishedAfterRefusalCheck: finishedAt.filter((t) => t > checkedAt).length,
      lastAnswerMsAfterSignal: Math.round(Math.max(...finishedAt) - signalledAt),
      exitMsAfterSignal: Math.round(exitedAt - signalledAt),
      exitCode: code,
      newConnectionsRefused: refused,
    };
    console.log(JSON.stringify(line));
    expect(failures).toEqual([]);
    expect(afterSignal).toBeGreaterThanOrEqual(8); // the drain really had work to wait for
    expect(line.finishedAfterRefusalCheck).toBeGreaterThanOrEqual(2); // refused while requests were still running
    expect(refused).toEqual({ http: true, grpc: true });
    expect(code).toBe(0);
    expect(exitedAt - signalledAt).toBeLessThan(GRACE_MS + 1000);
    expect(s.output()).toMatch(/"msg":"shutting down".*"signal":"SIGTERM"|shutting down/);

    // What the drained requests wrote was committed before the exit.
    github.resetBehavior();
    const again = await start();
    const d2 = [restDriver(again.httpUrl), grpcDriver(again.grpcAddress)];
    const logins = await mapLimit(accounts, 4, (a, i) => d2[i % 2]!.call("LoginByPassword", a));
    expect(logins.map((r, i) => sub(r) === sub(results[i]!) || brief(r))).toEqual(accounts.map(() => true));
    d2.forEach((d) => d.close());
    expect(await again.stop("SIGTERM")).toBe(0);
  },
  60_000,
);
