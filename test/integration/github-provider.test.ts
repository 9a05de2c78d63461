import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createGitHubProvider } from "../../src/adapters/github/provider.ts";
import type { GitHubProviderOptions } from "../../src/adapters/github/provider.ts";
import { AppError } from "../../src/domain/errors.ts";
import { startFakeGitHub } from "../support/fake-github.ts";
import type { FakeGitHub } from "../support/fake-github.ts";

const REDIRECT = "http://localhost:3000/callback";

let gh: FakeGitHub;

const provider = (overrides: Partial<GitHubProviderOptions> = {}) =>
  createGitHubProvider({
    clientId: gh.clientId,
    clientSecret: gh.clientSecret,
    authorizeUrl: gh.authorizeUrl,
    tokenUrl: gh.tokenUrl,
    apiUrl: gh.apiUrl,
    timeoutMs: 2000,
    ...overrides,
  });

const failure = async (p: Promise<unknown>): Promise<AppError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
};

/** Nothing secret may show up in the message, or anywhere in the cause chain. */
const expectNoSecrets = (err: AppError, ...secrets: string[]): void => {
  let text = "";
  for (let e: unknown = err; e instanceof Error; e = e.cause) text += `${e.message}\n`;
  for (const s of [gh.clientSecret, ...secrets]) expect(text).not.toContain(s);
};

beforeAll(async () => {
  gh = await startFakeGitHub();
  gh.addUser({
    id: 1001,
    login: "octocat",
    avatarUrl: "https://avatars.example/octocat.png",
    publicEmail: "octo-public@example.com",
    emails: [
      { email: "octo@example.com", verified: true, primary: true },
      { email: "octo-old@example.com", verified: false, primary: false },
      { email: "1001+octocat@users.noreply.github.com", verified: true, primary: false, visibility: "private" },
    ],
  });
  gh.addUser({
    id: 2002,
    login: "private-pat",
    emails: [{ email: "pat@example.com", verified: false, primary: true }],
  });
});

afterEach(() => {
  gh.resetBehavior();
  gh.requests.length = 0;
});

afterAll(async () => {
  await gh.stop();
});

describe("status", () => {
  test("enabled with id and secret", () => {
    expect(provider().status()).toEqual({ enabled: true });
    expect(provider().name).toBe("github");
  });
  test("missing client id (checked first)", () => {
    expect(provider({ clientId: "" }).status()).toEqual({ enabled: false, reason: "missing_client_id" });
    expect(provider({ clientId: "  ", clientSecret: "" }).status()).toEqual({
      enabled: false,
      reason: "missing_client_id",
    });
  });
  test("missing client secret", () => {
    expect(provider({ clientSecret: "" }).status()).toEqual({ enabled: false, reason: "missing_client_secret" });
  });
  test("exchange with no configuration → OAUTH_NOT_CONFIGURED without a request", async () => {
    const err = await failure(provider({ clientSecret: "" }).exchangeCode("x", null));
    expect(err.reason).toBe("OAUTH_NOT_CONFIGURED");
    expect(gh.requests).toHaveLength(0);
  });
});

describe("authorizeUrl", () => {
  test("carries client_id, redirect_uri, scope and state", () => {
    const url = new URL(provider().authorizeUrl("s".repeat(64), `${REDIRECT}?next=/a&b=1`));
    expect(`${url.origin}${url.pathname}`).toBe(gh.authorizeUrl);
    expect(url.searchParams.get("client_id")).toBe(gh.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(`${REDIRECT}?next=/a&b=1`);
    expect(url.searchParams.get("scope")).toBe("read:user user:email");
    expect(url.searchParams.get("state")).toBe("s".repeat(64));
    expect(url.searchParams.has("client_secret")).toBe(false);
  });
  test("defaults to github.com", () => {
    const url = new URL(createGitHubProvider({ clientId: "id", clientSecret: "secret" }).authorizeUrl("st", REDIRECT));
    expect(`${url.origin}${url.pathname}`).toBe("https://github.com/login/oauth/authorize");
  });
});

describe("exchangeCode", () => {
  test("JSON answer → access token; request is what GitHub expects", async () => {
    const { code, state } = await gh.authorize("octocat", "st-1", REDIRECT);
    expect(state).toBe("st-1");
    const token = await provider().exchangeCode(code, REDIRECT);
    expect(token).toMatch(/^gho_/);
    const req = gh.requests.find((r) => r.path === "/login/oauth/access_token");
    expect(req?.method).toBe("POST");
    expect(req?.headers.accept).toBe("application/json");
    const body = new URLSearchParams(req?.body);
    expect(body.get("client_id")).toBe(gh.clientId);
    expect(body.get("client_secret")).toBe(gh.clientSecret);
    expect(body.get("code")).toBe(code);
    expect(body.get("redirect_uri")).toBe(REDIRECT);
  });

  test("form-encoded answer → access token", async () => {
    gh.setBehavior({ tokenFormat: "form" });
    const { code } = await gh.authorize("octocat", "st-2", REDIRECT);
    expect(await provider().exchangeCode(code, null)).toMatch(/^gho_/);
  });

  test("bad code (200 + error) → OAUTH_EXCHANGE_FAILED", async () => {
    const err = await failure(provider().exchangeCode("not-a-code", REDIRECT));
    expect(err.reason).toBe("OAUTH_EXCHANGE_FAILED");
    expect(err.message).toBe("failed to exchange authorization code");
    expect(String((err.cause as Error).message)).toContain("bad_verification_code");
    expectNoSecrets(err, "not-a-code");
  });

  test("bad code in a form answer → OAUTH_EXCHANGE_FAILED", async () => {
    gh.setBehavior({ tokenFormat: "form" });
    expect((await failure(provider().exchangeCode("nope", null))).reason).toBe("OAUTH_EXCHANGE_FAILED");
  });

  test("a code is single use", async () => {
    const { code } = await gh.authorize("octocat", "st-3", REDIRECT);
    await provider().exchangeCode(code, REDIRECT);
    expect((await failure(provider().exchangeCode(code, REDIRECT))).reason).toBe("OAUTH_EXCHANGE_FAILED");
  });

  test("wrong client secret → OAUTH_EXCHANGE_FAILED, secret not leaked", async () => {
    const { code } = await gh.authorize("octocat", "st-4", REDIRECT);
    const err = await failure(provider({ clientSecret: "wrong-secret-value" }).exchangeCode(code, REDIRECT));
    expect(err.reason).toBe("OAUTH_EXCHANGE_FAILED");
    expectNoSecrets(err, "wrong-secret-value", code);
  });

  test("bad_verification_code forced by behaviour → OAUTH_EXCHANGE_FAILED", async () => {
    gh.setBehavior({ tokenError: "bad_verification_code" });
    const { code } = await gh.authorize("octocat", "st-5", REDIRECT);
    expect((await failure(provider().exchangeCode(code, REDIRECT))).reason).toBe("OAUTH_EXCHANGE_FAILED");
  });

  test("4xx → OAUTH_EXCHANGE_FAILED", async () => {
    gh.setBehavior({ tokenError: 401 });
    expect((await failure(provider().exchangeCode("c", REDIRECT))).reason).toBe("OAUTH_EXCHANGE_FAILED");
  });

  test("500 → DEPENDENCY_UNAVAILABLE", async () => {
    gh.setBehavior({ tokenError: 500 });
    const err = await failure(provider().exchangeCode("c", REDIRECT));
    expect(err.reason).toBe("DEPENDENCY_UNAVAILABLE");
    expect(err.message).toBe("github is unavailable");
  });

  test("slower than timeoutMs → DEPENDENCY_UNAVAILABLE", async () => {
    gh.setBehavior({ delayMs: 1000 });
    const started = performance.now();
    const err = await failure(provider({ timeoutMs: 150 }).exchangeCode("c", REDIRECT));
    expect(err.reason).toBe("DEPENDENCY_UNAVAILABLE");
    expect(performance.now() - started).toBeLessThan(900);
  });

  test("unreachable → DEPENDENCY_UNAVAILABLE", async () => {
    const err = await failure(
      provider({ tokenUrl: "http://127.0.0.1:1/login/oauth/access_token" }).exchangeCode("c", null),
    );
    expect(err.reason).toBe("DEPENDENCY_UNAVAILABLE");
    expectNoSecrets(err);
  });

  test("a fetch that ignores the abort signal still cannot hang the exchange", async () => {
    const never = () => new Promise<Response>(() => {});
    const err = await failure(provider({ fetch: never, timeoutMs: 100 }).exchangeCode("c", null));
    expect(err.reason).toBe("DEPENDENCY_UNAVAILABLE");
  });

  test("200 with no access_token or a garbage body → OAUTH_EXCHANGE_FAILED", async () => {
    for (const body of ['{"token_type":"bearer"}', "<html>oops</html>", '{"access_token":"x","token_type":"mac"}']) {
      const fetchFn = async () => new Response(body, { headers: { "content-type": "application/json" } });
      expect((await failure(provider({ fetch: fetchFn }).exchangeCode("c", null))).reason).toBe(
        "OAUTH_EXCHANGE_FAILED",
      );
    }
  });
});

describe("fetchProfile", () => {
  test("profile with verified, unverified and private emails", async () => {
    const { code } = await gh.authorize("octocat", "st-p", REDIRECT);
    const token = await provider().exchangeCode(code, REDIRECT);
    const profile = await provider().fetchProfile(token);
    expect(profile).toEqual({
      id: "1001",
      login: "octocat",
      avatarUrl: "https://avatars.example/octocat.png",
      publicEmail: "octo-public@example.com",
      emails: [
        { email: "octo@example.com", verified: true, primary: true },
        { email: "octo-old@example.com", verified: false, primary: false },
        { email: "1001+octocat@users.noreply.github.com", verified: true, primary: false },
      ],
    });
    const apiReqs = gh.requests.filter((r) => r.path.startsWith("/user"));
    expect(apiReqs.map((r) => r.path).sort()).toEqual(["/user", "/user/emails"]);
    for (const r of apiReqs) {
      expect(r.headers.authorization).toBe(`Bearer ${token}`);
      expect(r.headers.accept).toBe("application/vnd.github+json");
      expect(r.headers["user-agent"]).toBe("identra");
      expect(r.headers["x-github-api-version"]).toBe("2022-11-28");
    }
  });

  test("a user with no public email and only an unverified one", async () => {
    const profile = await provider().fetchProfile(gh.issueToken("private-pat"));
    expect(profile.id).toBe("2002");
    expect(profile.publicEmail).toBeNull();
    expect(profile.avatarUrl).toContain("2002");
    expect(profile.emails).toEqual([{ email: "pat@example.com", verified: false, primary: true }]);
  });

  test("bad token → OAUTH_PROFILE_FAILED, token not leaked", async () => {
    const err = await failure(provider().fetchProfile("gho_not_a_real_token"));
    expect(err.reason).toBe("OAUTH_PROFILE_FAILED");
    expect(err.message).toBe("failed to fetch user info");
    expectNoSecrets(err, "gho_not_a_real_token");
  });

  test("401 → OAUTH_PROFILE_FAILED", async () => {
    gh.setBehavior({ userStatus: 401 });
    expect((await failure(provider().fetchProfile(gh.issueToken("octocat")))).reason).toBe("OAUTH_PROFILE_FAILED");
  });

  test("403 → OAUTH_PROFILE_FAILED", async () => {
    gh.setBehavior({ userStatus: 403 });
    expect((await failure(provider().fetchProfile(gh.issueToken("octocat")))).reason).toBe("OAUTH_PROFILE_FAILED");
  });

  test("500 → DEPENDENCY_UNAVAILABLE", async () => {
    gh.setBehavior({ userStatus: 500 });
    expect((await failure(provider().fetchProfile(gh.issueToken("octocat")))).reason).toBe("DEPENDENCY_UNAVAILABLE");
  });

  test("emails endpoint 500 → DEPENDENCY_UNAVAILABLE", async () => {
    gh.setBehavior({ emailsStatus: 500 });
    expect((await failure(provider().fetchProfile(gh.issueToken("octocat")))).reason).toBe("DEPENDENCY_UNAVAILABLE");
  });

  test.each([403, 404] as const)("emails endpoint %p (scope missing) → empty emails", async (emailsStatus) => {
    gh.setBehavior({ emailsStatus });
    const profile = await provider().fetchProfile(gh.issueToken("octocat"));
    expect(profile.login).toBe("octocat");
    expect(profile.emails).toEqual([]);
  });

  test("slow API → DEPENDENCY_UNAVAILABLE", async () => {
    const t = gh.issueToken("octocat");
    gh.setBehavior({ delayMs: 1000 });
    expect((await failure(provider({ timeoutMs: 150 }).fetchProfile(t))).reason).toBe("DEPENDENCY_UNAVAILABLE");
  });

  test.each([
    ["id as string", { id: "1001", login: "octocat", avatar_url: "", email: null }],
    ["missing login", { id: 1001, avatar_url: "", email: null }],
    ["email as number", { id: 1001, login: "octocat", avatar_url: "", email: 5 }],
    ["missing avatar_url", { id: 1001, login: "octocat", email: null }],
    ["an array", [1, 2]],
  ])("malformed /user (%s) → OAUTH_PROFILE_FAILED", async (_name, userBody) => {
    gh.setBehavior({ userBody });
    expect((await failure(provider().fetchProfile(gh.issueToken("octocat")))).reason).toBe("OAUTH_PROFILE_FAILED");
  });

  test.each([
    ["an object", { email: "a@b.c" }],
    ["verified missing", [{ email: "a@b.c", primary: true }]],
    ["email null", [{ email: null, verified: true, primary: true }]],
  ])("malformed /user/emails (%s) → OAUTH_PROFILE_FAILED", async (_name, emailsBody) => {
    gh.setBehavior({ emailsBody });
    expect((await failure(provider().fetchProfile(gh.issueToken("octocat")))).reason).toBe("OAUTH_PROFILE_FAILED");
  });
});
