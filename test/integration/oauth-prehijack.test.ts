// Issue 5 × the pre-hijack guard (contract §5), over REST and gRPC. An attacker signs up with the
// victim's address (unverified password) and binds the attacker's own GitHub account to it. When the
// victim later proves the address, the guard removes that password and revokes its sessions — but
// the GitHub link made while the account was unproven is another way in and must go too.
//
// KNOWN BUG (marked test.failing, so the suite stays green and this flips to a failure once fixed:
// then turn it into a plain `test`): markEmailVerified / email-code-login's proveExisting remove the
// password only; the attacker's GitHub identity survives and LoginByOAuth lands in the victim's account.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { startFakeGitHub, type FakeGitHub, githubEnv } from "../support/fake-github.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { grpcDriver, restDriver, type Driver } from "../support/rpc-driver.ts";
import { extractCode, startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";

const REDIRECT = "http://127.0.0.1:5173/oauth/callback";

let github: FakeGitHub;
let sink: SmtpSink;
let server: TestServer;
const drivers: Driver[] = [];

beforeAll(async () => {
  [github, sink] = await Promise.all([startFakeGitHub(), startSmtpSink()]);
  server = await startTestServer({
    env: {
      ...githubEnv(github),
      ...smtpEnv(sink.port),
    },
  });
  drivers.push(restDriver(server.httpUrl), grpcDriver(server.grpcAddress));
});
afterAll(async () => {
  drivers.forEach((d) => d.close());
  await server.stop();
  await github.stop();
  await sink.stop();
});

async function authorize(d: Driver, login: string) {
  const r = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: REDIRECT });
  if (!r.ok) throw new Error(`GetOAuthAuthorizationURL failed: ${r.message}`);
  return github.authorize(login, r.body.state, REDIRECT);
}

let n = 0;
for (const transport of ["rest", "grpc"] as const) {
  const d = () => drivers.find((x) => x.transport === transport)!;

  describe(`pre-hijack guard vs. GitHub links over ${transport}`, () => {
    test("a GitHub account bound while the address was unproven does not survive the owner proving it", async () => {
      const victim = `victim-${transport}-${++n}@example.com`;
      const attackerId = 5_000_000 + n;
      const attackerLogin = `attacker-${transport}-${n}`;
      github.addUser({ id: attackerId, login: attackerLogin, emails: [{ email: `${attackerLogin}@evil.example`, verified: true, primary: true }] });

      // The attacker squats the address and binds their own GitHub account to it.
      const squat = await d().call("RegisterByPassword", { email: victim, password: "attacker-password" });
      if (!squat.ok) throw new Error("register failed");
      const bind = await d().call("BindUserByOAuth", await authorize(d(), attackerLogin), { bearer: squat.body.token.accessToken.token });
      expect(bind.ok).toBe(true);

      // The real owner proves the address with an email code.
      expect((await d().call("SendLoginEmailCode", { email: victim })).ok).toBe(true);
      const code = extractCode(await sink.waitFor(victim));
      const owner = await d().call("LoginByEmailCode", { email: victim, code });
      if (!owner.ok) throw new Error(`email-code login failed: ${owner.message}`);
      const ownerId = decodeJwt(owner.body.token.accessToken.token).sub;

      // The guard worked for the password...
      expect(await d().call("LoginByPassword", { email: victim, password: "attacker-password" })).toMatchObject({ ok: false });
      // ...and must have dropped the attacker's GitHub link as well.
      const info = await d().call("GetCurrentUserLoginInfo", {}, { bearer: owner.body.token.accessToken.token });
      expect(info).toMatchObject({ ok: true, body: { oauthConnections: [] } });
      const attacker = await d().call("LoginByOAuth", await authorize(d(), attackerLogin));
      if (attacker.ok) expect(decodeJwt(attacker.body.token.accessToken.token).sub).not.toBe(ownerId);
    });
  });
}
