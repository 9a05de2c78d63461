// Refresh rotation under races (contract §4), through the real service on SQLite with a manual clock.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { createManualClock } from "../../src/adapters/system/clock.ts";
import type { RequestContext } from "../../src/services/api.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";

const clock = createManualClock(Date.now());
let server: TestServer;
const ctx: RequestContext = { clientIp: "127.0.0.1", bearerToken: null, requestId: "t" };
beforeAll(async () => {
  server = await startTestServer({ overrides: { clock } });
});
afterAll(() => server.stop());

const login = async () => (await server.app.api.registerByPassword({ email: `race-${crypto.randomUUID()}@example.com`, password: "race-password" }, ctx)).token;
const refresh = (token: string) => server.app.api.refreshToken({ refreshToken: token }, ctx);
const outcome = (p: Promise<unknown>) => p.then((v) => ({ ok: true as const, v }), (e) => ({ ok: false as const, e }));

test("100 concurrent refreshes of one token: one successor, every caller gets it", async () => {
  const pair = await login();
  const results = await Promise.all(Array.from({ length: 100 }, () => refresh(pair.refreshToken.token)));
  const successors = new Set(results.map((r) => r.token.refreshToken.token));
  const accesses = new Set(results.map((r) => r.token.accessToken.token));
  expect(successors.size).toBe(1);
  expect(accesses.size).toBe(1);
  const [successor] = [...successors];
  expect(successor).not.toBe(pair.refreshToken.token);
  // The successor itself rotates normally.
  expect((await refresh(successor!)).token.refreshToken.token).not.toBe(successor);
});

test("a repeat within the reuse interval returns the same successor pair", async () => {
  const pair = await login();
  const first = await refresh(pair.refreshToken.token);
  clock.advance(9_000);
  const again = await refresh(pair.refreshToken.token);
  expect(again).toEqual(first);
});

test("a replay after the interval revokes the family; the successor stops working too", async () => {
  const pair = await login();
  const first = await refresh(pair.refreshToken.token);
  clock.advance(11_000);
  const replay = await outcome(refresh(pair.refreshToken.token));
  expect(replay.ok).toBe(false);
  if (!replay.ok) expect((replay.e as Error).message).toBe("refresh token has been revoked");
  const successor = await outcome(refresh(first.token.refreshToken.token));
  expect(successor.ok).toBe(false);
  if (!successor.ok) expect((successor.e as Error).message).toBe("refresh token has been revoked");
});

test("an expired refresh token is invalid; an access token is not a refresh token", async () => {
  const pair = await login();
  const access = await outcome(refresh(pair.accessToken.token));
  expect(!access.ok && (access.e as Error).message).toBe("invalid refresh token");
  clock.advance(169 * 3600 * 1000);
  const expired = await outcome(refresh(pair.refreshToken.token));
  expect(!expired.ok && (expired.e as Error).message).toBe("invalid refresh token");
});

test("a disabled user cannot refresh", async () => {
  const pair = await login();
  const uid = decodeJwt(pair.accessToken.token).sub!;
  await server.app.stores.users.update(uid, { disabled: true }, clock.now());
  const r = await outcome(refresh(pair.refreshToken.token));
  expect(!r.ok && (r.e as Error).message).toBe("user account is disabled");
});
