// Three server processes behind round-robin requests, sharing Redis and one store (the MongoDB
// stand-in, and again one SQLite file): every login method and refresh works whichever replica
// answers each step, JWKS is identical, and a key rotation through the shared store reaches all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { startFakeGitHub, type FakeGitHub, githubEnv } from "../support/fake-github.ts";
import { startMongo, type MongoHandle } from "../support/mongo-standin.ts";
import { startRedis } from "../support/redis-server.ts";
import { grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";
import { runCli, spawnServer, type SpawnedServer } from "../support/spawn-server.ts";

let redis: Awaited<ReturnType<typeof startRedis>>;
let smtp: SmtpSink;
let github: FakeGitHub;
beforeAll(async () => {
  [redis, smtp, github] = await Promise.all([startRedis(), startSmtpSink(), startFakeGitHub()]);
});
afterAll(async () => {
  await Promise.allSettled([redis.stop(), smtp.stop(), github.stop()]);
});

const sharedEnv = () => ({
  IDENTRA_REDIS_URLS: redis.url,
  IDENTRA_AUTH_KEY_RING_REFRESH_INTERVAL: "200ms",
  IDENTRA_LOG_LEVEL: "warn",
  ...smtpEnv(smtp.port),
  ...githubEnv(github),
});

const backends = [
  { name: "one SQLite file", env: async () => ({ env: { IDENTRA_PERSISTENCE_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "identra-rep-")), "users.db") }, stop: async () => {} }) },
  {
    name: "MongoDB",
    env: async () => {
      const mongo: MongoHandle = await startMongo();
      return { env: { IDENTRA_PERSISTENCE_TYPE: "mongo", IDENTRA_PERSISTENCE_MONGO_URI: mongo.uri, IDENTRA_PERSISTENCE_MONGO_DATABASE: mongo.database }, stop: () => mongo.stop() };
    },
  },
];

for (const backend of backends) {
  describe(`three replicas on ${backend.name} + Redis`, () => {
    const replicas: SpawnedServer[] = [];
    const rest: Driver[] = [];
    const grpc: Driver[] = [];
    let env: Record<string, string> = {};
    let stopBackend = async () => {};
    let turn = 0;
    /** Round robin over replicas, alternating transports. */
    const next = () => {
      const i = turn++ % replicas.length;
      return turn % 2 ? rest[i]! : grpc[i]!;
    };

    beforeAll(async () => {
      const b = await backend.env();
      stopBackend = b.stop;
      env = { ...sharedEnv(), ...b.env };
      // The first replica creates the signing key; the others find it (they also race safely).
      replicas.push(...(await Promise.all([0, 1, 2].map(() => spawnServer({ env })))));
      for (const r of replicas) {
        rest.push(restDriver(r.httpUrl));
        grpc.push(grpcDriver(r.grpcAddress));
      }
    }, 120_000);
    afterAll(async () => {
      grpc.forEach((d) => d.close());
      await Promise.all(replicas.map((r) => r.stop("SIGKILL")));
      await stopBackend();
    });

    const jwksOf = async (r: SpawnedServer) => (await fetch(`${r.httpUrl}/api/.well-known/jwks.json`)).text();

    test("JWKS is identical on every replica", async () => {
      const bodies = await Promise.all(replicas.map(jwksOf));
      expect(new Set(bodies).size).toBe(1);
      expect(JSON.parse(bodies[0]!).keys).toHaveLength(1);
    });

    test("password: register, login, refresh chain and login info on different replicas", async () => {
      const email = `rr-${crypto.randomUUID()}@example.com`;
      const reg = await next().call("RegisterByPassword", { email, password: "round-robin-pw" });
      expect(reg.ok).toBe(true);
      const login = await next().call("LoginByPassword", { email, password: "round-robin-pw" });
      if (!login.ok) throw new Error(`login failed: ${login.message}`);
      let refresh = login.body.token.refreshToken.token as string;
      for (let i = 0; i < 6; i++) {
        const r = await next().call("RefreshToken", { refreshToken: refresh });
        if (!r.ok) throw new Error(`refresh ${i} failed: ${r.message}`);
        refresh = r.body.token.refreshToken.token;
      }
      const info = await next().call("GetCurrentUserLoginInfo", {}, { bearer: login.body.token.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { email } });
      expect(await next().call("RevokeRefreshToken", { refreshToken: refresh })).toMatchObject({ ok: true });
      expect(await next().call("RefreshToken", { refreshToken: refresh })).toMatchObject({ ok: false, reason: "REFRESH_TOKEN_REVOKED" });
    });

    test("a refresh token raced across all replicas has one successor", async () => {
      const login = await next().call("LoginByPassword", { email: `race-${crypto.randomUUID()}@example.com`, password: "race-replicas" });
      if (!login.ok) throw new Error("login failed");
      const token = login.body.token.refreshToken.token;
      const results = await Promise.all(Array.from({ length: 30 }, () => next().call("RefreshToken", { refreshToken: token })));
      const failed = results.filter((r) => !r.ok);
      if (failed.length) {
        const causes = replicas.flatMap((r) => r.output().split("\n").filter((l) => l.includes("dependency unavailable")));
        throw new Error(`${failed.length} refreshes failed: ${JSON.stringify(failed[0])}\n${causes.join("\n")}`);
      }
      expect(new Set(results.map((r) => (r.ok ? r.body.token.refreshToken.token : ""))).size).toBe(1);
    });

    test("email code sent through one replica logs in through another", async () => {
      const email = `code-${crypto.randomUUID()}@example.com`;
      expect(await next().call("SendLoginEmailCode", { email })).toMatchObject({ ok: true });
      const code = extractCode(await smtp.waitFor(email, 5000));
      const login = await next().call("LoginByEmailCode", { email, code });
      expect(login.ok).toBe(true);
      // Single use across replicas too.
      expect(await next().call("LoginByEmailCode", { email, code })).toMatchObject({ ok: false, message: "invalid or expired code" });
    });

    test("GitHub: authorization URL from one replica, login and bind on others", async () => {
      const id = Math.floor(Math.random() * 1e9);
      const login = `octo${id}`;
      const email = `${login}@example.com`;
      github.addUser({ id, login, emails: [{ email, verified: true, primary: true }] });
      const redirect = "https://app.example.com/callback";
      const url = await next().call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: redirect });
      if (!url.ok) throw new Error(`url failed: ${url.message}`);
      const granted = await github.authorize(login, url.body.state, redirect);
      const result = await next().call("LoginByOAuth", granted);
      expect(result).toMatchObject({ ok: true, body: { email, username: login } });

      // Bind a second GitHub account to a password user, state issued on one replica, bind on another.
      const user = await next().call("LoginByPassword", { email: `bind-${id}@example.com`, password: "bind-password" });
      if (!user.ok) throw new Error("login failed");
      const other = `other${id}`;
      github.addUser({ id: id + 1, login: other, emails: [] });
      const bearer = user.body.token.accessToken.token;
      const bindUrl = await next().call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: redirect }, { bearer });
      if (!bindUrl.ok) throw new Error("bind url failed");
      const bindGrant = await github.authorize(other, bindUrl.body.state, redirect);
      expect(await next().call("BindUserByOAuth", bindGrant, { bearer })).toMatchObject({ ok: true, body: { username: other } });
      const info = await next().call("GetCurrentUserLoginInfo", {}, { bearer });
      expect(info.ok && info.body.githubId).toBe(String(id + 1));
    });

    test("a key rotated through the shared store is served and honoured by every replica", async () => {
      const before = await next().call("LoginByPassword", { email: `rot-${crypto.randomUUID()}@example.com`, password: "rotation-pw" });
      if (!before.ok) throw new Error("login failed");
      const oldKid = decodeProtectedHeader(before.body.token.accessToken.token).kid;
      const cli = await runCli(["keys", "rotate", "--now"], { env });
      expect(cli.code).toBe(0);
      await Bun.sleep(700);
      const bodies = await Promise.all(replicas.map(jwksOf));
      expect(new Set(bodies).size).toBe(1);
      expect(JSON.parse(bodies[0]!).keys.length).toBeGreaterThanOrEqual(2);
      for (let i = 0; i < replicas.length; i++) {
        const fresh = await rest[i]!.call("LoginByPassword", { email: decodeJwt(before.body.token.accessToken.token).sub + "@x.example.com", password: "rotation-pw" });
        if (!fresh.ok) throw new Error(`login on replica ${i} failed: ${fresh.message}`);
        expect(decodeProtectedHeader(fresh.body.token.accessToken.token).kid).not.toBe(oldKid);
        // Tokens signed with the previous key still verify on every replica.
        expect((await grpc[i]!.call("GetCurrentUserLoginInfo", {}, { bearer: before.body.token.accessToken.token })).ok).toBe(true);
      }
    });
  });
}
