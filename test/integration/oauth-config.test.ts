// Issue 5, GitHub OAuth under other configurations, over REST and gRPC: GitHub not configured
// (ListOAuthProviders reasons, FAILED_PRECONDITION), the redirect allow-list (exact + prefix*),
// state expiry (manual clock, short auth.oauth_state_expiration), and GitHub unreachable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../../src/adapters/system/clock.ts";
import { startFakeGitHub, type FakeGitHub, githubEnv } from "../support/fake-github.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";

const REDIRECT = "http://127.0.0.1:5173/oauth/callback";
const STATE_TTL_MS = 2 * 60_000;

const serverEnv = (gh: FakeGitHub, extra: Record<string, string> = {}) => ({
  ...githubEnv(gh),
  IDENTRA_AUTH_GITHUB_TIMEOUT: "500ms",
  ...extra,
});

interface Target {
  server: TestServer;
  drivers: Record<"rest" | "grpc", Driver>;
}
const targets: Target[] = [];
async function serve(options: Parameters<typeof startTestServer>[0]): Promise<Target> {
  const server = await startTestServer(options);
  const t = { server, drivers: { rest: restDriver(server.httpUrl), grpc: grpcDriver(server.grpcAddress) } };
  targets.push(t);
  return t;
}

let github: FakeGitHub;
let deadGitHub: FakeGitHub;
const clock = createManualClock();
let noClientId: Target;
let noSecret: Target;
let restricted: Target;
let down: Target;

beforeAll(async () => {
  [github, deadGitHub] = await Promise.all([startFakeGitHub(), startFakeGitHub()]);
  await deadGitHub.stop(); // its port now refuses connections
  [noClientId, noSecret, restricted, down] = await Promise.all([
    serve({ env: serverEnv(github, { IDENTRA_AUTH_GITHUB_CLIENT_ID: "" }) }),
    serve({ env: serverEnv(github, { IDENTRA_AUTH_GITHUB_CLIENT_SECRET: "" }) }),
    serve({
      env: serverEnv(github, {
        IDENTRA_AUTH_OAUTH_ALLOWED_REDIRECT_URLS: `https://app.example.com/auth/callback,${REDIRECT.replace("/callback", "/")}*`,
        IDENTRA_AUTH_OAUTH_STATE_EXPIRATION: "2m",
      }),
      overrides: { clock },
    }),
    serve({ env: serverEnv(deadGitHub) }),
  ]);
});
afterAll(async () => {
  for (const t of targets) {
    t.drivers.grpc.close();
    await t.server.stop();
  }
  await github.stop();
});

let n = 0;
function ghUser(tag: string) {
  const id = 7_000_000 + ++n;
  const login = `cfg-${tag}-${n}`;
  github.addUser({ id, login, emails: [{ email: `${login}@example.com`, verified: true, primary: true }] });
  return { id: String(id), login };
}

async function authorize(d: Driver, login: string, redirect = REDIRECT) {
  const r = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: redirect });
  if (!r.ok) throw new Error(`GetOAuthAuthorizationURL failed: ${r.message}`);
  return github.authorize(login, r.body.state, redirect);
}

const NOT_CONFIGURED = { ok: false, grpcCode: 9, reason: "OAUTH_NOT_CONFIGURED", message: "GitHub OAuth is not configured" };

for (const transport of ["rest", "grpc"] as const) {
  describe(`GitHub OAuth configuration over ${transport}`, () => {
    test("ListOAuthProviders: github enabled with no reason when configured, else the missing setting", async () => {
      const on = await restricted.drivers[transport].call("ListOAuthProviders");
      expect(on).toMatchObject({ ok: true, body: { providers: [{ name: "github", enabled: true }] } });
      if (on.ok) expect(on.body.providers[0].reason ?? "").toBe("");
      if (on.ok && transport === "rest") expect("reason" in on.body.providers[0]).toBe(false);
      expect(await noClientId.drivers[transport].call("ListOAuthProviders")).toMatchObject({
        ok: true,
        body: { providers: [{ name: "github", enabled: false, reason: "missing_client_id" }] },
      });
      expect(await noSecret.drivers[transport].call("ListOAuthProviders")).toMatchObject({
        ok: true,
        body: { providers: [{ name: "github", enabled: false, reason: "missing_client_secret" }] },
      });
    });

    test("GitHub not configured: URL, login and bind are FAILED_PRECONDITION", async () => {
      for (const t of [noClientId, noSecret]) {
        const d = t.drivers[transport];
        const url = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
        expect(url).toMatchObject(NOT_CONFIGURED);
        if (transport === "rest" && !url.ok) expect(url.httpStatus).toBe(400);
        expect(await d.call("LoginByOAuth", { code: "abc", state: "ab".repeat(32) })).toMatchObject(NOT_CONFIGURED);
        const reg = await d.call("RegisterByPassword", { email: `nocfg-${transport}-${++n}@example.com`, password: "a-fine-password" });
        if (!reg.ok) throw new Error("register failed");
        const bind = await d.call("BindUserByOAuth", { code: "abc", state: "ab".repeat(32) }, { bearer: reg.body.token.accessToken.token });
        expect(bind).toMatchObject(NOT_CONFIGURED);
        // The provider check still comes first for an unknown provider.
        expect(await d.call("GetOAuthAuthorizationURL", { provider: "gitlab", redirect_url: REDIRECT })).toMatchObject({ ok: false, grpcCode: 3, message: "provider gitlab not supported" });
      }
    });

    test("redirect allow-list: exact URLs and prefix* entries pass, anything else is INVALID_ARGUMENT", async () => {
      const d = restricted.drivers[transport];
      const allowed = ["https://app.example.com/auth/callback", REDIRECT, `${REDIRECT}?next=%2Fhome`, "http://127.0.0.1:5173/oauth/other"];
      for (const redirect_url of allowed) {
        const r = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url });
        expect({ redirect_url, ok: r.ok }).toEqual({ redirect_url, ok: true });
      }
      const refused = [
        "https://app.example.com/auth/callback/extra",
        "https://app.example.com/auth/callbac",
        "http://app.example.com/auth/callback",
        "http://127.0.0.1:5173/oauth", // prefix is ".../oauth/"
        "http://127.0.0.1:5174/oauth/callback",
        "https://evil.example.com/oauth/callback",
      ];
      for (const redirect_url of refused) {
        const r = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url });
        expect({ redirect_url, r }).toMatchObject({ redirect_url, r: { ok: false, grpcCode: 3, reason: "REDIRECT_URL_NOT_ALLOWED" } });
        if (transport === "rest" && !r.ok) expect(r.httpStatus).toBe(400);
      }
      // An allowed redirect URL completes the flow.
      const gh = ghUser(transport);
      const { code, state } = await authorize(d, gh.login, `${REDIRECT}?next=%2Fhome`);
      expect(await d.call("LoginByOAuth", { code, state })).toMatchObject({ ok: true, body: { username: gh.login } });
    });

    test("a state outlives neither auth.oauth_state_expiration (2m here) nor a clock moved past it", async () => {
      const d = restricted.drivers[transport];
      const gh = ghUser(transport);
      const early = await authorize(d, gh.login);
      clock.advance(STATE_TTL_MS - 1_000);
      expect(await d.call("LoginByOAuth", early)).toMatchObject({ ok: true, body: { username: gh.login } });

      const late = await authorize(d, gh.login);
      clock.advance(STATE_TTL_MS + 1_000);
      expect(await d.call("LoginByOAuth", late)).toMatchObject({ ok: false, grpcCode: 3, reason: "INVALID_STATE", message: "invalid or expired state" });

      // Bind likewise.
      const reg = await d.call("RegisterByPassword", { email: `exp-${transport}-${++n}@example.com`, password: "a-fine-password" });
      if (!reg.ok) throw new Error("register failed");
      const forBind = await authorize(d, ghUser(transport).login);
      clock.advance(STATE_TTL_MS + 1_000);
      expect(await d.call("BindUserByOAuth", forBind, { bearer: reg.body.token.accessToken.token })).toMatchObject({ ok: false, grpcCode: 3, message: "invalid or expired state" });
    });

    test("GitHub unreachable (its server stopped): login and bind are UNAVAILABLE", async () => {
      const d = down.drivers[transport];
      const url = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
      if (!url.ok) throw new Error("GetOAuthAuthorizationURL failed");
      expect(url.body.url).toStartWith(deadGitHub.authorizeUrl);
      const login = await d.call("LoginByOAuth", { code: "0123456789abcdef0123", state: url.body.state });
      expect(login).toMatchObject({ ok: false, grpcCode: 14, reason: "DEPENDENCY_UNAVAILABLE" });
      if (transport === "rest" && !login.ok) expect(login.httpStatus).toBe(503);

      const reg = await d.call("RegisterByPassword", { email: `down-${transport}-${++n}@example.com`, password: "a-fine-password" });
      if (!reg.ok) throw new Error("register failed: the rest of the service must keep working");
      const again = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
      if (!again.ok) throw new Error("GetOAuthAuthorizationURL failed");
      const bind = await d.call("BindUserByOAuth", { code: "0123456789abcdef0123", state: again.body.state }, { bearer: reg.body.token.accessToken.token });
      expect(bind).toMatchObject({ ok: false, grpcCode: 14 });
    });
  });
}
