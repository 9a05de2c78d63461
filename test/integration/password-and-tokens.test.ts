// Issue 3 end to end over both transports (real sockets, real SQLite): register, login (auto-create
// and existing user), wrong password, policy/email errors, refresh, revoke, login info.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";

let server: TestServer;
const drivers: Driver[] = [];
beforeAll(async () => {
  server = await startTestServer();
  drivers.push(restDriver(server.httpUrl), grpcDriver(server.grpcAddress));
});
afterAll(async () => {
  drivers.forEach((d) => d.close());
  await server.stop();
});

let n = 0;
const freshEmail = (t: string) => `User.${t}.${++n}@Example.COM `;

for (const transport of ["rest", "grpc"] as const) {
  const d = () => drivers.find((x) => x.transport === transport)!;

  describe(`password login over ${transport}`, () => {
    test("register returns a token pair in the contract's shape with every claim", async () => {
      const r = await d().call("RegisterByPassword", { email: freshEmail(transport), password: "correct horse" });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const pair = r.body.token;
      expect(pair.tokenType).toBe("Bearer");
      expect(typeof pair.accessToken.expiresAt).toBe("string");
      const access = decodeJwt(pair.accessToken.token);
      const refresh = decodeJwt(pair.refreshToken.token);
      const header = decodeProtectedHeader(pair.accessToken.token);
      expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
      expect(header.kid).toHaveLength(11);
      expect(access).toMatchObject({ iss: "identra", typ: "access" });
      expect(access.sub).toBe(access.uid as string);
      expect(typeof access.jti).toBe("string");
      expect(access.nbf).toBe(access.iat!);
      expect(access.exp! - access.iat!).toBe(15 * 60);
      expect(refresh.typ).toBe("refresh");
      expect(refresh.exp! - refresh.iat!).toBe(168 * 3600);
      expect(refresh.jti).not.toBe(access.jti);
      expect(String(access.exp)).toBe(pair.accessToken.expiresAt);
    });

    test("register of an existing email is ALREADY_EXISTS", async () => {
      const email = freshEmail(transport);
      await d().call("RegisterByPassword", { email, password: "password-1" });
      const r = await d().call("RegisterByPassword", { email: email.toUpperCase(), password: "password-1" });
      expect(r).toMatchObject({ ok: false, grpcCode: 6, reason: "USER_EXISTS", message: "user already exists" });
    });

    test("login auto-creates an unknown user, then logs the same user in", async () => {
      const email = freshEmail(transport);
      const first = await d().call("LoginByPassword", { email, password: "first-login-pw" });
      expect(first.ok).toBe(true);
      const second = await d().call("LoginByPassword", { email: email.trim().toLowerCase(), password: "first-login-pw" });
      expect(second.ok).toBe(true);
      if (!first.ok || !second.ok) return;
      expect(decodeJwt(second.body.token.accessToken.token).sub).toBe(decodeJwt(first.body.token.accessToken.token).sub!);
    });

    test("wrong password is UNAUTHENTICATED invalid credentials", async () => {
      const email = freshEmail(transport);
      await d().call("RegisterByPassword", { email, password: "the-right-one" });
      const r = await d().call("LoginByPassword", { email, password: "the-wrong-one" });
      expect(r).toMatchObject({ ok: false, grpcCode: 16, reason: "INVALID_CREDENTIALS", message: "invalid credentials" });
    });

    test("missing fields, bad email and policy violations are INVALID_ARGUMENT with a reason", async () => {
      expect(await d().call("LoginByPassword", { email: "a@b.co" })).toMatchObject({ ok: false, grpcCode: 3, message: "email and password are required" });
      expect(await d().call("RegisterByPassword", { password: "12345678" })).toMatchObject({ ok: false, grpcCode: 3, message: "email and password are required" });
      const bad = await d().call("RegisterByPassword", { email: "not-an-email", password: "12345678" });
      expect(bad).toMatchObject({ ok: false, grpcCode: 3 });
      if (!bad.ok) expect(bad.message).toContain("email is not a valid address");
      const short = await d().call("RegisterByPassword", { email: freshEmail(transport), password: "short" });
      expect(short).toMatchObject({ ok: false, grpcCode: 3, message: "password must be at least 8 characters" });
      const long = await d().call("LoginByPassword", { email: freshEmail(transport), password: "x".repeat(129) });
      expect(long).toMatchObject({ ok: false, grpcCode: 3, message: "password must be at most 128 characters" });
    });

    test("refresh rotates, revoke ends the family, login info reads the user", async () => {
      const email = freshEmail(transport);
      const login = await d().call("RegisterByPassword", { email, password: "rotate-me-pls" });
      if (!login.ok) throw new Error("register failed");
      const r1 = await d().call("RefreshToken", { refresh_token: login.body.token.refreshToken.token });
      expect(r1.ok).toBe(true);
      if (!r1.ok) return;
      expect(r1.body.token.refreshToken.token).not.toBe(login.body.token.refreshToken.token);

      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: r1.body.token.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { email: email.trim().toLowerCase(), passwordEnabled: true, oauthConnections: [] } });
      if (info.ok) expect(info.body.userId).toBe(decodeJwt(r1.body.token.accessToken.token).sub);

      const revoked = await d().call("RevokeRefreshToken", { refreshToken: r1.body.token.refreshToken.token });
      expect(revoked).toMatchObject({ ok: true, body: {} });
      const after = await d().call("RefreshToken", { refreshToken: r1.body.token.refreshToken.token });
      expect(after).toMatchObject({ ok: false, grpcCode: 16, reason: "REFRESH_TOKEN_REVOKED", message: "refresh token has been revoked" });
    });

    test("login info: deprecated body token works, header wins, missing/invalid tokens are refused", async () => {
      const a = await d().call("RegisterByPassword", { email: freshEmail(transport), password: "user-a-password" });
      const b = await d().call("RegisterByPassword", { email: freshEmail(transport), password: "user-b-password" });
      if (!a.ok || !b.ok) throw new Error("register failed");
      const tokenA = a.body.token.accessToken.token;
      const tokenB = b.body.token.accessToken.token;
      const viaBody = await d().call("GetCurrentUserLoginInfo", { access_token: tokenA });
      expect(viaBody.ok && viaBody.body.userId).toBe(decodeJwt(tokenA).sub as string);
      const both = await d().call("GetCurrentUserLoginInfo", { access_token: tokenA }, { bearer: tokenB });
      expect(both.ok && both.body.userId).toBe(decodeJwt(tokenB).sub as string);
      expect(await d().call("GetCurrentUserLoginInfo", {})).toMatchObject({ ok: false, grpcCode: 16, message: "access token is required" });
      expect(await d().call("GetCurrentUserLoginInfo", {}, { bearer: "garbage" })).toMatchObject({ ok: false, grpcCode: 16, message: "invalid access token" });
      const refreshAsAccess = await d().call("GetCurrentUserLoginInfo", {}, { bearer: a.body.token.refreshToken.token });
      expect(refreshAsAccess).toMatchObject({ ok: false, grpcCode: 16, message: "invalid access token" });
    });
  });
}

test("JWKS over REST and gRPC publish the same keys", async () => {
  const rest = await drivers[0]!.call("GetJWKS");
  const grpc = await drivers[1]!.call("GetJWKS");
  if (!rest.ok || !grpc.ok) throw new Error("jwks failed");
  expect(rest.body.keys).toHaveLength(1);
  expect(grpc.body.keys.map((k: any) => ({ kty: k.kty, alg: k.alg, use: k.use, kid: k.kid, n: k.n, e: k.e }))).toEqual(rest.body.keys);
});
