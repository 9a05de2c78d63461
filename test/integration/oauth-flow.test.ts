// Issue 5, GitHub OAuth end to end over REST and gRPC: the real app on loopback, a fake GitHub over
// HTTP (no mocks). Authorization URL, login (create, find again, merge only by a VERIFIED primary
// email, pre-hijack guard), bind (link, conflict, idempotent), user-bound states, state reuse,
// missing fields, and GitHub failures (rejected code, 401 profile, 5xx, too slow).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { startFakeGitHub, type FakeGitHub, type FakeGitHubEmail, githubEnv } from "../support/fake-github.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";

const REDIRECT = "http://127.0.0.1:5173/oauth/callback";

let github: FakeGitHub;
let server: TestServer;
const drivers: Driver[] = [];

beforeAll(async () => {
  github = await startFakeGitHub();
  server = await startTestServer({
    env: {
      ...githubEnv(github),
      IDENTRA_AUTH_GITHUB_TIMEOUT: "500ms",
    },
  });
  drivers.push(restDriver(server.httpUrl), grpcDriver(server.grpcAddress));
});
afterEach(() => github.resetBehavior());
afterAll(async () => {
  drivers.forEach((d) => d.close());
  await server.stop();
  await github.stop();
});

let n = 0;
/** A fresh GitHub account on the fake; `emails` default to one verified primary address. */
function ghUser(tag: string, emails?: (login: string) => FakeGitHubEmail[], publicEmail: string | null = null) {
  const id = 9_000_000 + ++n;
  const login = `gh-${tag}-${n}`;
  github.addUser({
    id,
    login,
    avatarUrl: `https://avatars.example.test/u/${id}`,
    publicEmail,
    emails: emails ? emails(login) : [{ email: `${login}@Users.Example.COM`, verified: true, primary: true }],
  });
  return { id: String(id), login, email: `${login}@users.example.com` };
}
const freshEmail = (tag: string) => `pw-${tag}-${++n}@example.com`;
const sub = (token: string) => decodeJwt(token).sub as string;

/**
 * GetOAuthAuthorizationURL, then the browser's trip through the URL it returned (the fake GitHub
 * picks the account from ?login=) back to the redirect URI with a code and the state.
 */
async function authorize(d: Driver, login: string, opts: { bearer?: string; redirect?: string } = {}) {
  const redirect = opts.redirect ?? REDIRECT;
  const r = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: redirect }, { bearer: opts.bearer });
  if (!r.ok) throw new Error(`GetOAuthAuthorizationURL failed: ${r.message}`);
  const url = new URL(r.body.url);
  url.searchParams.set("login", login);
  const res = await fetch(url, { redirect: "manual" });
  await res.body?.cancel();
  if (res.status !== 302) throw new Error(`fake github authorize answered ${res.status}`);
  const back = new URL(res.headers.get("location")!);
  expect(back.origin + back.pathname).toBe(redirect);
  expect(back.searchParams.get("state")).toBe(r.body.state);
  return { code: back.searchParams.get("code")!, state: r.body.state as string, url: r.body.url as string };
}

async function loginAs(d: Driver, login: string) {
  const { code, state } = await authorize(d, login);
  return d.call("LoginByOAuth", { code, state });
}

async function register(d: Driver, email: string, password = "a-fine-password") {
  const r = await d.call("RegisterByPassword", { email, password });
  if (!r.ok) throw new Error(`register failed: ${r.message}`);
  return r.body.token as { accessToken: { token: string }; refreshToken: { token: string } };
}

const INVALID_STATE = { ok: false, grpcCode: 3, reason: "INVALID_STATE", message: "invalid or expired state" };

for (const transport of ["rest", "grpc"] as const) {
  const d = () => drivers.find((x) => x.transport === transport)!;

  describe(`GitHub OAuth login over ${transport}`, () => {
    test("GetOAuthAuthorizationURL returns GitHub's authorize URL with client id, redirect, scopes and a 64-hex state", async () => {
      const r = await d().call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const url = new URL(r.body.url);
      expect(url.origin + url.pathname).toBe(github.authorizeUrl);
      expect(url.searchParams.get("client_id")).toBe(github.clientId);
      expect(url.searchParams.get("redirect_uri")).toBe(REDIRECT);
      expect(url.searchParams.get("scope")).toBe("read:user user:email");
      expect(r.body.state).toMatch(/^[0-9a-f]{64}$/);
      expect(url.searchParams.get("state")).toBe(r.body.state);
      const again = await d().call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
      expect(again.ok && again.body.state).not.toBe(r.body.state);
    });

    test("login creates a user from the verified primary email; a second login finds the same user", async () => {
      const gh = ghUser(transport);
      const first = await loginAs(d(), gh.login);
      expect(first).toMatchObject({ ok: true, body: { username: gh.login, avatarUrl: `https://avatars.example.test/u/${gh.id}`, email: gh.email } });
      if (!first.ok) return;
      expect(first.body.token.tokenType).toBe("Bearer");
      expect(decodeJwt(first.body.token.accessToken.token).typ).toBe("access");
      expect(decodeJwt(first.body.token.refreshToken.token).typ).toBe("refresh");

      const second = await loginAs(d(), gh.login);
      expect(second.ok).toBe(true);
      if (!second.ok) return;
      expect(sub(second.body.token.accessToken.token)).toBe(sub(first.body.token.accessToken.token));
      expect(second.body.email).toBe(gh.email);

      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: second.body.token.accessToken.token });
      expect(info).toMatchObject({
        ok: true,
        body: { userId: sub(first.body.token.accessToken.token), email: gh.email, githubId: gh.id, passwordEnabled: false, oauthConnections: [{ provider: "github", providerUserId: gh.id }] },
      });
    });

    test("the token endpoint answering as a form (not JSON) works too", async () => {
      github.setBehavior({ tokenFormat: "form" });
      const gh = ghUser(transport);
      expect(await loginAs(d(), gh.login)).toMatchObject({ ok: true, body: { username: gh.login, email: gh.email } });
    });

    test("merge by verified primary email into a password account: same user, unverified password removed, refresh families revoked", async () => {
      const email = freshEmail(transport);
      const pw = await register(d(), email);
      const gh = ghUser(transport, () => [
        { email: `other-${n}@elsewhere.example`, verified: true, primary: false },
        { email: email.toUpperCase(), verified: true, primary: true },
      ]);
      const r = await loginAs(d(), gh.login);
      expect(r).toMatchObject({ ok: true, body: { username: gh.login, email } });
      if (!r.ok) return;
      expect(sub(r.body.token.accessToken.token)).toBe(sub(pw.accessToken.token));

      // Pre-hijack guard: whoever set that password never proved the address.
      const pwLogin = await d().call("LoginByPassword", { email, password: "a-fine-password" });
      expect(pwLogin).toMatchObject({ ok: false, grpcCode: 9, message: "password login not set up for this account" });
      const oldRefresh = await d().call("RefreshToken", { refresh_token: pw.refreshToken.token });
      expect(oldRefresh).toMatchObject({ ok: false, grpcCode: 16, message: "refresh token has been revoked" });
      // The session GitHub just started is not part of the revocation.
      expect((await d().call("RefreshToken", { refresh_token: r.body.token.refreshToken.token })).ok).toBe(true);

      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: r.body.token.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { email, githubId: gh.id, passwordEnabled: false, oauthConnections: [{ provider: "github", providerUserId: gh.id }] } });
    });

    test("an unverified primary email equal to an existing account's gives no access to it (FAILED_PRECONDITION)", async () => {
      const email = freshEmail(transport);
      const pw = await register(d(), email);
      const gh = ghUser(transport, () => [{ email, verified: false, primary: true }]);
      const r = await loginAs(d(), gh.login);
      expect(r).toMatchObject({ ok: false, grpcCode: 9, reason: "OAUTH_NO_EMAIL", message: "oauth provider did not supply an email address" });
      if (transport === "rest" && !r.ok) expect(r.httpStatus).toBe(400);
      // The account is untouched: password still works, nothing linked, session alive.
      const again = await d().call("LoginByPassword", { email, password: "a-fine-password" });
      expect(again.ok).toBe(true);
      if (again.ok) expect(sub(again.body.token.accessToken.token)).toBe(sub(pw.accessToken.token));
      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: pw.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { passwordEnabled: true, oauthConnections: [] } });
      if (info.ok) expect(info.body.githubId).toBeUndefined();
      expect((await d().call("RefreshToken", { refresh_token: pw.refreshToken.token })).ok).toBe(true);
    });

    test("a verified but non-primary email equal to an existing account's is not merged either", async () => {
      const email = freshEmail(transport);
      await register(d(), email);
      const gh = ghUser(transport, (login) => [
        { email: `${login}@unverified.example`, verified: false, primary: true },
        { email, verified: true, primary: false },
      ]);
      expect(await loginAs(d(), gh.login)).toMatchObject({ ok: false, grpcCode: 9, message: "oauth provider did not supply an email address" });
      expect((await d().call("LoginByPassword", { email, password: "a-fine-password" })).ok).toBe(true);
    });

    test("a merely public profile email (emails list unreadable) is not merged", async () => {
      const email = freshEmail(transport);
      await register(d(), email);
      const gh = ghUser(transport, () => [], email);
      github.setBehavior({ emailsStatus: 404 });
      expect(await loginAs(d(), gh.login)).toMatchObject({ ok: false, grpcCode: 9, message: "oauth provider did not supply an email address" });
      github.setBehavior({ emailsStatus: 200 });
      // Public email, but the list says it is not verified.
      const gh2 = ghUser(transport, () => [{ email, verified: false, primary: true }], email);
      expect(await loginAs(d(), gh2.login)).toMatchObject({ ok: false, grpcCode: 9, message: "oauth provider did not supply an email address" });
      expect((await d().call("LoginByPassword", { email, password: "a-fine-password" })).ok).toBe(true);
    });

    test("no email at all is FAILED_PRECONDITION", async () => {
      const gh = ghUser(transport, () => []);
      expect(await loginAs(d(), gh.login)).toMatchObject({ ok: false, grpcCode: 9, reason: "OAUTH_NO_EMAIL", message: "oauth provider did not supply an email address" });
    });

    test("a used state is refused (single use)", async () => {
      const gh = ghUser(transport);
      const { code, state } = await authorize(d(), gh.login);
      expect((await d().call("LoginByOAuth", { code, state })).ok).toBe(true);
      const next = await authorize(d(), gh.login);
      expect(await d().call("LoginByOAuth", { code: next.code, state })).toMatchObject(INVALID_STATE);
      // A state that was never issued, or is not even the right shape.
      expect(await d().call("LoginByOAuth", { code: next.code, state: "ab".repeat(32) })).toMatchObject(INVALID_STATE);
      expect(await d().call("LoginByOAuth", { code: next.code, state: "not-a-state" })).toMatchObject(INVALID_STATE);
      // The untouched state still works with its code.
      expect((await d().call("LoginByOAuth", { code: next.code, state: next.state })).ok).toBe(true);
    });

    test("one state raced by parallel logins is redeemed exactly once", async () => {
      const gh = ghUser(transport);
      const { code, state } = await authorize(d(), gh.login);
      const results = await Promise.all([1, 2, 3, 4].map(() => d().call("LoginByOAuth", { code, state })));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      for (const r of results.filter((r) => !r.ok)) expect(r).toMatchObject(INVALID_STATE);
    });

    test("a verified primary email that belongs to a user already linked to ANOTHER GitHub account is not merged", async () => {
      const email = freshEmail(transport);
      const first = ghUser(transport, () => [{ email, verified: true, primary: true }]);
      const owner = await loginAs(d(), first.login);
      if (!owner.ok) throw new Error("first login failed");
      const second = ghUser(transport, () => [{ email, verified: true, primary: true }]);
      const r = await loginAs(d(), second.login);
      expect(r).toMatchObject({ ok: false, grpcCode: 6 });
      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: owner.body.token.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { githubId: first.id, oauthConnections: [{ provider: "github", providerUserId: first.id }] } });
      if (info.ok) expect(info.body.oauthConnections).toHaveLength(1);
    });

    test("missing code / state / provider / redirect URL are INVALID_ARGUMENT", async () => {
      expect(await d().call("LoginByOAuth", { state: "ab".repeat(32) })).toMatchObject({ ok: false, grpcCode: 3, message: "code is required" });
      expect(await d().call("LoginByOAuth", { code: "abc" })).toMatchObject({ ok: false, grpcCode: 3, message: "state is required" });
      expect(await d().call("GetOAuthAuthorizationURL", { redirect_url: REDIRECT })).toMatchObject({ ok: false, grpcCode: 3, message: "provider is required" });
      expect(await d().call("GetOAuthAuthorizationURL", { provider: "github" })).toMatchObject({ ok: false, grpcCode: 3, message: "redirect URL is required" });
      const gitlab = await d().call("GetOAuthAuthorizationURL", { provider: "gitlab", redirect_url: REDIRECT });
      expect(gitlab).toMatchObject({ ok: false, grpcCode: 3, message: "provider gitlab not supported" });
      if (transport === "rest" && !gitlab.ok) expect(gitlab.httpStatus).toBe(400);
      if (transport === "rest") {
        const camel = await d().call("GetOAuthAuthorizationURL", { provider: "github", redirectUrl: REDIRECT });
        expect(camel.ok && new URL(camel.body.url).searchParams.get("redirect_uri")).toBe(REDIRECT);
      }
      const notUrl = await d().call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: "javascript:alert(1)" });
      expect(notUrl).toMatchObject({ ok: false, grpcCode: 3 });
    });

    test("GitHub rejecting the code is UNAUTHENTICATED failed to exchange authorization code", async () => {
      const gh = ghUser(transport);
      // A code GitHub already redeemed: its real answer is 200 {"error":"bad_verification_code"}.
      const used = await authorize(d(), gh.login);
      expect((await d().call("LoginByOAuth", used)).ok).toBe(true);
      const fresh = await authorize(d(), gh.login);
      const r = await d().call("LoginByOAuth", { code: used.code, state: fresh.state });
      expect(r).toMatchObject({ ok: false, grpcCode: 16, reason: "OAUTH_EXCHANGE_FAILED", message: "failed to exchange authorization code" });
      if (transport === "rest" && !r.ok) {
        expect(r.httpStatus).toBe(401);
        expect(r.headers?.get("www-authenticate") ?? "").toStartWith("Bearer");
      }
      // Forced by behaviour, in the form answer too.
      github.setBehavior({ tokenError: "bad_verification_code", tokenFormat: "form" });
      const { code, state } = await authorize(d(), gh.login);
      expect(await d().call("LoginByOAuth", { code, state })).toMatchObject({ ok: false, grpcCode: 16, message: "failed to exchange authorization code" });
    });

    test("GitHub answering /user with 401 is UNAUTHENTICATED failed to fetch user info", async () => {
      const gh = ghUser(transport);
      github.setBehavior({ userStatus: 401 });
      const r = await loginAs(d(), gh.login);
      expect(r).toMatchObject({ ok: false, grpcCode: 16, reason: "OAUTH_PROFILE_FAILED", message: "failed to fetch user info" });
      if (transport === "rest" && !r.ok) expect(r.httpStatus).toBe(401);
    });

    test("GitHub answering 500 (token endpoint or API) is UNAVAILABLE", async () => {
      const gh = ghUser(transport);
      for (const behavior of [{ tokenError: 500 as const }, { userStatus: 500 as const }, { emailsStatus: 500 as const }]) {
        github.resetBehavior();
        github.setBehavior(behavior);
        const r = await loginAs(d(), gh.login);
        expect(r).toMatchObject({ ok: false, grpcCode: 14, reason: "DEPENDENCY_UNAVAILABLE" });
        if (transport === "rest" && !r.ok) expect(r.httpStatus).toBe(503);
      }
    });

    test("GitHub slower than auth.github.timeout (500ms) is UNAVAILABLE, promptly", async () => {
      const gh = ghUser(transport);
      const { code, state } = await authorize(d(), gh.login);
      github.setBehavior({ delayMs: 1500 });
      const t0 = performance.now();
      const r = await d().call("LoginByOAuth", { code, state });
      const elapsed = performance.now() - t0;
      expect(r).toMatchObject({ ok: false, grpcCode: 14 });
      if (transport === "rest" && !r.ok) expect(r.httpStatus).toBe(503);
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(1400);
    });
  });

  describe(`GitHub OAuth bind over ${transport}`, () => {
    test("bind links GitHub to the Bearer user; login info shows it; a later GitHub login is that user", async () => {
      const email = freshEmail(transport);
      const pw = await register(d(), email);
      const gh = ghUser(transport);
      const { code, state } = await authorize(d(), gh.login); // state issued without a token
      const r = await d().call("BindUserByOAuth", { code, state }, { bearer: pw.accessToken.token });
      expect(r).toMatchObject({ ok: true, body: { username: gh.login, avatarUrl: `https://avatars.example.test/u/${gh.id}` } });
      if (!r.ok) return;
      expect(sub(r.body.token.accessToken.token)).toBe(sub(pw.accessToken.token));
      expect(r.body.token.tokenType).toBe("Bearer");

      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: pw.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { email, githubId: gh.id, passwordEnabled: true, oauthConnections: [{ provider: "github", providerUserId: gh.id }] } });

      const login = await loginAs(d(), gh.login);
      expect(login).toMatchObject({ ok: true, body: { username: gh.login, email } }); // the local email, not GitHub's
      if (login.ok) expect(sub(login.body.token.accessToken.token)).toBe(sub(pw.accessToken.token));
    });

    test("binding the same GitHub account again to the same user succeeds (idempotent)", async () => {
      const pw = await register(d(), freshEmail(transport));
      const gh = ghUser(transport);
      for (let i = 0; i < 2; i++) {
        const { code, state } = await authorize(d(), gh.login);
        const r = await d().call("BindUserByOAuth", { code, state }, { bearer: pw.accessToken.token });
        expect(r).toMatchObject({ ok: true, body: { username: gh.login } });
      }
      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: pw.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { githubId: gh.id, oauthConnections: [{ provider: "github", providerUserId: gh.id }] } });
      if (info.ok) expect(info.body.oauthConnections).toHaveLength(1);
    });

    test("binding a GitHub account linked to another user is ALREADY_EXISTS", async () => {
      const gh = ghUser(transport);
      const owner = await loginAs(d(), gh.login); // GitHub login made its own user
      expect(owner.ok).toBe(true);
      const other = await register(d(), freshEmail(transport));
      const { code, state } = await authorize(d(), gh.login);
      const r = await d().call("BindUserByOAuth", { code, state }, { bearer: other.accessToken.token });
      expect(r).toMatchObject({ ok: false, grpcCode: 6, reason: "OAUTH_ALREADY_LINKED", message: "oauth account already linked to another user" });
      if (transport === "rest" && !r.ok) expect(r.httpStatus).toBe(409);
      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: other.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { oauthConnections: [] } });
    });

    test("binding a second GitHub account to a user who already has one is ALREADY_EXISTS; the first link stays", async () => {
      const pw = await register(d(), freshEmail(transport));
      const first = ghUser(transport);
      const one = await authorize(d(), first.login);
      expect((await d().call("BindUserByOAuth", one, { bearer: pw.accessToken.token })).ok).toBe(true);
      const second = ghUser(transport);
      const two = await authorize(d(), second.login);
      expect(await d().call("BindUserByOAuth", two, { bearer: pw.accessToken.token })).toMatchObject({ ok: false, grpcCode: 6 });
      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: pw.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { githubId: first.id, oauthConnections: [{ provider: "github", providerUserId: first.id }] } });
      if (info.ok) expect(info.body.oauthConnections).toHaveLength(1);
    });

    test("the deprecated body access_token works for bind", async () => {
      const pw = await register(d(), freshEmail(transport));
      const gh = ghUser(transport);
      const { code, state } = await authorize(d(), gh.login);
      const r = await d().call("BindUserByOAuth", { access_token: pw.accessToken.token, code, state });
      expect(r).toMatchObject({ ok: true, body: { username: gh.login } });
      if (r.ok) expect(sub(r.body.token.accessToken.token)).toBe(sub(pw.accessToken.token));
    });

    test("a state bound to a user: refused by login and by bind for another user, accepted by bind for that user", async () => {
      const a = await register(d(), freshEmail(transport));
      const b = await register(d(), freshEmail(transport));
      const gh = ghUser(transport);

      const forLogin = await authorize(d(), gh.login, { bearer: a.accessToken.token });
      expect(forLogin.state).toMatch(/^[0-9a-f]{64}$/);
      expect(await d().call("LoginByOAuth", { code: forLogin.code, state: forLogin.state })).toMatchObject(INVALID_STATE);

      const forB = await authorize(d(), gh.login, { bearer: a.accessToken.token });
      expect(await d().call("BindUserByOAuth", { code: forB.code, state: forB.state }, { bearer: b.accessToken.token })).toMatchObject(INVALID_STATE);
      const infoB = await d().call("GetCurrentUserLoginInfo", {}, { bearer: b.accessToken.token });
      expect(infoB).toMatchObject({ ok: true, body: { oauthConnections: [] } });

      const forA = await authorize(d(), gh.login, { bearer: a.accessToken.token });
      const r = await d().call("BindUserByOAuth", { code: forA.code, state: forA.state }, { bearer: a.accessToken.token });
      expect(r).toMatchObject({ ok: true, body: { username: gh.login } });
      if (r.ok) expect(sub(r.body.token.accessToken.token)).toBe(sub(a.accessToken.token));
      // ...and, being single use, not a second time.
      expect(await d().call("BindUserByOAuth", { code: forA.code, state: forA.state }, { bearer: a.accessToken.token })).toMatchObject(INVALID_STATE);
    });

    test("GetOAuthAuthorizationURL with an invalid Bearer token is refused rather than issuing an unbound state", async () => {
      const r = await d().call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT }, { bearer: "garbage" });
      expect(r).toMatchObject({ ok: false, grpcCode: 16, message: "invalid access token" });
    });

    test("bind without a token, with a bad token, or without code/state is refused", async () => {
      const gh = ghUser(transport);
      const { code, state } = await authorize(d(), gh.login);
      expect(await d().call("BindUserByOAuth", { code, state })).toMatchObject({ ok: false, grpcCode: 16, reason: "ACCESS_TOKEN_REQUIRED", message: "access token is required" });
      expect(await d().call("BindUserByOAuth", { code, state }, { bearer: "garbage" })).toMatchObject({ ok: false, grpcCode: 16, message: "invalid access token" });
      const pw = await register(d(), freshEmail(transport));
      expect(await d().call("BindUserByOAuth", { state }, { bearer: pw.accessToken.token })).toMatchObject({ ok: false, grpcCode: 3, message: "code is required" });
      expect(await d().call("BindUserByOAuth", { code }, { bearer: pw.accessToken.token })).toMatchObject({ ok: false, grpcCode: 3, message: "state is required" });
      // None of those consumed the state.
      expect((await d().call("BindUserByOAuth", { code, state }, { bearer: pw.accessToken.token })).ok).toBe(true);
    });
  });
}
