// GitHub OAuth: authorization URL + state, login, bind (contract §5).
import { AppError, MESSAGES } from "../domain/errors.ts";
import { normalizeEmail } from "../domain/email.ts";
import type { User } from "../domain/user.ts";
import type { EphemeralStore } from "../ports/ephemeral-store.ts";
import type { OAuthProfile, OAuthProvider } from "../ports/oauth-provider.ts";
import type { UserStore } from "../ports/user-store.ts";
import type { Clock, Logger, Random } from "../ports/system.ts";
import type { RequestContext } from "./api.ts";
import type { Metrics } from "./metrics.ts";
import type { SessionService } from "./session-service.ts";
import { assertEnabled, createOrFind, given, newUser } from "./users.ts";

interface StoredState {
  provider: string;
  redirectUrl: string;
  /** Set when the state was issued to a signed-in user: usable only by BindUserByOAuth for that user. */
  userId: string | null;
}

const STATE_PATTERN = /^[0-9a-f]{64}$/;

export function redirectAllowed(url: string, allowList: readonly string[]): boolean {
  if (allowList.length === 0) return true;
  return allowList.some((entry) => (entry.endsWith("*") ? url.startsWith(entry.slice(0, -1)) : url === entry));
}

export function createOAuthLogin(deps: {
  provider: OAuthProvider;
  users: UserStore;
  store: EphemeralStore;
  sessions: SessionService;
  /** Resolves a Bearer access token to a user id (throws INVALID_ACCESS_TOKEN). */
  authenticate: (token: string) => Promise<string>;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics: Metrics;
  stateTtlMs: number;
  allowedRedirectUrls: readonly string[];
}) {
  const { provider, users, store, sessions, clock, random, logger, metrics } = deps;
  const stateKey = (state: string) => `oauth-state:${state}`;

  const checkProvider = (name: string | null) => {
    if (!name) throw new AppError("INVALID_ARGUMENT", MESSAGES.providerRequired);
    if (name !== provider.name) {
      const shown = name.replace(/[^\w.-]/g, "").slice(0, 32);
      throw new AppError("PROVIDER_NOT_SUPPORTED", `provider ${shown} not supported`);
    }
    if (!provider.status().enabled) throw new AppError("OAUTH_NOT_CONFIGURED", MESSAGES.githubNotConfigured);
  };

  const readCodeAndState = (req: { code?: string; state?: string }) => {
    const code = given(req.code);
    const state = given(req.state);
    if (!code) throw new AppError("INVALID_ARGUMENT", MESSAGES.codeRequired);
    if (!state) throw new AppError("INVALID_ARGUMENT", MESSAGES.stateRequired);
    if (code.length > 512) throw new AppError("OAUTH_EXCHANGE_FAILED", MESSAGES.exchangeFailed);
    return { code, state };
  };

  /** Single use: the state is removed by the first request that presents it. */
  async function consumeState(state: string): Promise<StoredState> {
    if (!STATE_PATTERN.test(state)) throw new AppError("INVALID_STATE", MESSAGES.invalidState);
    const raw = await store.getAndDelete(stateKey(state));
    if (!raw) throw new AppError("INVALID_STATE", MESSAGES.invalidState);
    return JSON.parse(raw) as StoredState;
  }

  async function profileFor(code: string, saved: StoredState): Promise<OAuthProfile> {
    const token = await provider.exchangeCode(code, saved.redirectUrl);
    return provider.fetchProfile(token);
  }

  /** Finds the account for a GitHub identity, merging only through a VERIFIED primary email. */
  async function accountFor(profile: OAuthProfile): Promise<User> {
    const identity = await users.findIdentity(provider.name, profile.id);
    if (identity) {
      const user = await users.findById(identity.userId);
      if (user) return user;
    }
    const primary = profile.emails.find((e) => e.primary && e.verified);
    let email: string | null = null;
    try {
      email = primary ? normalizeEmail(primary.email) : null;
    } catch {
      email = null;
    }
    if (!email) throw new AppError("OAUTH_NO_EMAIL", MESSAGES.noEmail);
    const link = { provider: provider.name, providerUserId: profile.id, createdAt: clock.now() };
    const existing = await users.findByEmail(email);
    if (!existing) {
      const fresh = newUser(clock, random, email, { passwordHash: null, emailVerified: true });
      const outcome = await createOrFind(users, fresh, { ...link, userId: fresh.id });
      if (outcome.created) return outcome.user;
      return mergeInto(outcome.user, link);
    }
    return mergeInto(existing, link);
  }

  async function mergeInto(user: User, link: { provider: string; providerUserId: string; createdAt: number }): Promise<User> {
    // Prove the address first: that drops whatever an unproven sign-up attached (password, a GitHub
    // link of the squatter's) before the owner's GitHub is linked.
    if (!user.emailVerified) {
      const result = await users.markEmailVerified(user.id, clock.now());
      if (result && (result.passwordRemoved || result.identitiesRemoved > 0)) {
        const n = await sessions.revokeAllForUser(user.id);
        logger.warn("unproven sign-up reset after a verified GitHub email matched the account", { user_id: user.id, identities_removed: result.identitiesRemoved, families_revoked: n });
      }
    }
    await users.linkIdentity({ ...link, userId: user.id });
    return (await users.findById(user.id)) ?? user;
  }

  return {
    async authorizationUrl(req: { provider?: string; redirectUrl?: string }, ctx: RequestContext) {
      checkProvider(given(req.provider));
      const redirectUrl = given(req.redirectUrl);
      if (!redirectUrl) throw new AppError("INVALID_ARGUMENT", MESSAGES.redirectUrlRequired);
      if (redirectUrl.length > 2048 || !URL.canParse(redirectUrl) || !/^https?:$/.test(new URL(redirectUrl).protocol)) {
        throw new AppError("INVALID_ARGUMENT", "redirect URL must be an absolute http(s) URL");
      }
      if (!redirectAllowed(redirectUrl, deps.allowedRedirectUrls)) {
        throw new AppError("REDIRECT_URL_NOT_ALLOWED", "redirect URL is not allowed");
      }
      const userId = ctx.bearerToken ? await deps.authenticate(ctx.bearerToken) : null;
      const state = Buffer.from(random.bytes(32)).toString("hex");
      const saved: StoredState = { provider: provider.name, redirectUrl, userId };
      await store.set(stateKey(state), JSON.stringify(saved), deps.stateTtlMs);
      return { url: provider.authorizeUrl(state, redirectUrl), state };
    },

    async login(req: { code?: string; state?: string }, _ctx: RequestContext) {
      const { code, state } = readCodeAndState(req);
      checkProvider(provider.name);
      const saved = await consumeState(state);
      if (saved.userId) throw new AppError("INVALID_STATE", MESSAGES.invalidState);
      const profile = await profileFor(code, saved);
      const user = await accountFor(profile);
      assertEnabled(user);
      await users.update(user.id, { lastLoginAt: clock.now() }, clock.now());
      metrics.logins.inc({ method: "github", result: "success" });
      return { token: await sessions.start(user.id), username: profile.login, avatarUrl: profile.avatarUrl, email: user.email };
    },

    async bind(req: { accessToken?: string; code?: string; state?: string }, ctx: RequestContext) {
      const token = ctx.bearerToken ?? given(req.accessToken);
      if (!token) throw new AppError("ACCESS_TOKEN_REQUIRED", MESSAGES.accessTokenRequired);
      const userId = await deps.authenticate(token);
      const { code, state } = readCodeAndState(req);
      checkProvider(provider.name);
      const saved = await consumeState(state);
      if (saved.userId && saved.userId !== userId) throw new AppError("INVALID_STATE", MESSAGES.invalidState);
      const profile = await profileFor(code, saved);
      const user = await users.findById(userId);
      if (!user) throw new AppError("INVALID_ACCESS_TOKEN", MESSAGES.invalidAccessToken);
      assertEnabled(user);
      await users.linkIdentity({ provider: provider.name, providerUserId: profile.id, userId, createdAt: clock.now() });
      metrics.logins.inc({ method: "github_bind", result: "success" });
      return { token: await sessions.start(userId), username: profile.login, avatarUrl: profile.avatarUrl };
    },
  };
}
