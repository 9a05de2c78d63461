// The server as an OS process (from source): config errors, restart durability, key rotation with
// the CLI, and two processes refreshing the same token on one SQLite file.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { restDriver } from "../support/rpc-driver.ts";
import { runCli, spawnServer, type SpawnedServer } from "../support/spawn-server.ts";

const running: SpawnedServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop("SIGKILL")));
});
const start = async (env: Record<string, string>) => {
  const s = await spawnServer({ env });
  running.push(s);
  return s;
};
const dataEnv = () => ({ IDENTRA_PERSISTENCE_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "identra-proc-")), "users.db") });

test("a bad config value stops the server with a message naming the key", async () => {
  const r = await runCli([], { env: { IDENTRA_AUTH_ACCESS_TOKEN_EXPIRATION: "soon" } });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("auth.access_token_expiration");
  expect(r.stderr).not.toContain("    at ");
  const legacy = await runCli([], { env: { HTTP_MAX_BODY_BYTES: "lots" } });
  expect(legacy.code).toBe(1);
  expect(legacy.stderr).toContain("http.max_body_bytes");
  const file = join(mkdtempSync(join(tmpdir(), "identra-cfg-")), "bad.toml");
  await Bun.write(file, '[auth]\nsigning_algorithm = "HS256"\n');
  const fromFile = await runCli(["--config", file]);
  expect(fromFile.code).toBe(1);
  expect(fromFile.stderr).toContain("auth.signing_algorithm");
});

test("keys and refresh families survive a restart", async () => {
  const env = dataEnv();
  const first = await start(env);
  const login = await restDriver(first.httpUrl).call("LoginByPassword", { email: "restart@example.com", password: "restart-password" });
  if (!login.ok) throw new Error("login failed");
  const jwksBefore = await (await fetch(`${first.httpUrl}/api/.well-known/jwks.json`)).text();
  await first.stop("SIGTERM");
  const second = await start(env);
  expect(await (await fetch(`${second.httpUrl}/api/.well-known/jwks.json`)).text()).toBe(jwksBefore);
  const d = restDriver(second.httpUrl);
  const info = await d.call("GetCurrentUserLoginInfo", {}, { bearer: login.body.token.accessToken.token });
  expect(info).toMatchObject({ ok: true, body: { email: "restart@example.com" } });
  const refreshed = await d.call("RefreshToken", { refreshToken: login.body.token.refreshToken.token });
  expect(refreshed.ok).toBe(true);
});

test("key rotation with the CLI: old tokens verify until their key is retired; new tokens carry the new kid", async () => {
  const env = { ...dataEnv(), IDENTRA_AUTH_KEY_RING_REFRESH_INTERVAL: "200ms" };
  const server = await start(env);
  const d = restDriver(server.httpUrl);
  const before = await d.call("LoginByPassword", { email: "rotate@example.com", password: "rotate-password" });
  if (!before.ok) throw new Error("login failed");
  const oldKid = decodeProtectedHeader(before.body.token.accessToken.token).kid!;

  const rotated = await runCli(["keys", "rotate", "--now"], { env });
  expect(rotated.code).toBe(0);
  const list = await runCli(["keys", "list"], { env });
  expect(list.stdout).toContain(`${oldKid}\tRS256\tPASSIVE`);
  await Bun.sleep(600);

  const after = await d.call("LoginByPassword", { email: "rotate@example.com", password: "rotate-password" });
  if (!after.ok) throw new Error("login failed");
  const newKid = decodeProtectedHeader(after.body.token.accessToken.token).kid!;
  expect(newKid).not.toBe(oldKid);
  const jwks = (await (await fetch(`${server.httpUrl}/api/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  expect(jwks.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
  expect((await d.call("GetCurrentUserLoginInfo", {}, { bearer: before.body.token.accessToken.token })).ok).toBe(true);

  expect((await runCli(["keys", "retire", newKid], { env })).code).toBe(1); // the ACTIVE key cannot be retired
  expect((await runCli(["keys", "retire", oldKid], { env })).code).toBe(0);
  await Bun.sleep(600);
  expect(await d.call("GetCurrentUserLoginInfo", {}, { bearer: before.body.token.accessToken.token })).toMatchObject({ ok: false, message: "invalid access token" });
  expect((await d.call("GetCurrentUserLoginInfo", {}, { bearer: after.body.token.accessToken.token })).ok).toBe(true);
  const jwksAfter = (await (await fetch(`${server.httpUrl}/api/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  expect(jwksAfter.keys.map((k) => k.kid)).toEqual([newKid]);
});

test("keys rotate without --now adds a PASSIVE key due after the JWKS cache time", async () => {
  const env = dataEnv();
  await runCli(["keys", "list"], { env }); // creates the store
  const server = await start(env);
  await server.stop();
  const r = await runCli(["keys", "rotate"], { env });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("added as PASSIVE");
  const list = await runCli(["keys", "list"], { env });
  expect(list.stdout.match(/PASSIVE/g)?.length).toBe(1);
  expect(list.stdout.match(/\tACTIVE\t/g)?.length).toBe(1);
});

test("two server processes on one SQLite file refreshing the same token: one successor", async () => {
  const env = dataEnv();
  const a = await start(env);
  const b = await start(env);
  const login = await restDriver(a.httpUrl).call("LoginByPassword", { email: "two-procs@example.com", password: "two-procs-password" });
  if (!login.ok) throw new Error("login failed");
  const token = login.body.token.refreshToken.token;
  const calls = Array.from({ length: 40 }, (_, i) => restDriver(i % 2 ? a.httpUrl : b.httpUrl).call("RefreshToken", { refreshToken: token }));
  const results = await Promise.all(calls);
  expect(results.every((r) => r.ok)).toBe(true);
  const successors = new Set(results.map((r) => (r.ok ? r.body.token.refreshToken.token : "")));
  expect(successors.size).toBe(1);
});
