// Composes the use cases into the one IdentraApi both transports call.
import { AppError, MESSAGES } from "../domain/errors.ts";
import type { EphemeralStore } from "../ports/ephemeral-store.ts";
import type { Mailer } from "../ports/mailer.ts";
import type { OAuthProvider } from "../ports/oauth-provider.ts";
import type { RefreshFamilyStore } from "../ports/refresh-family-store.ts";
import type { UserStore } from "../ports/user-store.ts";
import type { Clock, Logger, PasswordHasher, Random } from "../ports/system.ts";
import type { IdentraApi } from "./api.ts";
import { createEmailCodeLogin } from "./email-code-login.ts";
import type { KeyRing } from "./key-ring.ts";
import type { Metrics } from "./metrics.ts";
import { createOAuthLogin } from "./oauth-login.ts";
import { createPasswordLogin } from "./password-login.ts";
import { createRateLimiter, type RateLimitConfig } from "./rate-limiter.ts";
import { createSessionService } from "./session-service.ts";
import { createTokenService, TokenRejected } from "./token-service.ts";
import { given } from "./users.ts";

export interface ServiceSettings {
  issuer: string;
  audience: string;
  accessTtlMs: number;
  refreshTtlMs: number;
  reuseIntervalMs: number;
  oauthStateTtlMs: number;
  emailCodeTtlMs: number;
  autoRegister: boolean;
  setOnFirstLogin: boolean;
  allowedRedirectUrls: readonly string[];
  rateLimits: RateLimitConfig;
}

export interface ServiceDeps {
  users: UserStore;
  families: RefreshFamilyStore;
  ephemeral: EphemeralStore;
  keyRing: KeyRing;
  hasher: PasswordHasher;
  mailer: Mailer | null;
  github: OAuthProvider;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics: Metrics;
  settings: ServiceSettings;
}

export function createIdentraService(deps: ServiceDeps): IdentraApi {
  const { users, keyRing, clock, random, logger, metrics, settings } = deps;
  const tokens = createTokenService({ keyRing, clock, issuer: settings.issuer, audience: settings.audience, accessTtlMs: settings.accessTtlMs, refreshTtlMs: settings.refreshTtlMs });
  const sessions = createSessionService({ tokens, families: deps.families, users, clock, random, logger, metrics, refreshTtlMs: settings.refreshTtlMs, reuseIntervalMs: settings.reuseIntervalMs });
  const limiter = createRateLimiter({ store: deps.ephemeral, config: settings.rateLimits, logger, metrics, clock });

  async function authenticate(token: string): Promise<string> {
    try {
      return (await tokens.verify(token, "access")).uid;
    } catch (e) {
      if (e instanceof TokenRejected) throw new AppError("INVALID_ACCESS_TOKEN", MESSAGES.invalidAccessToken);
      throw e;
    }
  }

  const password = createPasswordLogin({ users, hasher: deps.hasher, sessions, limiter, clock, random, metrics, autoRegister: settings.autoRegister, setOnFirstLogin: settings.setOnFirstLogin });
  const emailCode = createEmailCodeLogin({ users, store: deps.ephemeral, mailer: deps.mailer, sessions, limiter, clock, random, logger, metrics, codeTtlMs: settings.emailCodeTtlMs });
  const oauth = createOAuthLogin({ provider: deps.github, users, store: deps.ephemeral, sessions, authenticate, clock, random, logger, metrics, stateTtlMs: settings.oauthStateTtlMs, allowedRedirectUrls: settings.allowedRedirectUrls });

  return {
    getJwks: () => keyRing.jwks(),
    onJwksChange: (listener) => keyRing.onJwksChange(listener),
    getOAuthAuthorizationUrl: (req, ctx) => oauth.authorizationUrl(req, ctx),
    loginByOAuth: (req, ctx) => oauth.login(req, ctx),
    bindUserByOAuth: (req, ctx) => oauth.bind(req, ctx),
    sendLoginEmailCode: (req, ctx) => emailCode.send(req, ctx),
    loginByEmailCode: (req, ctx) => emailCode.login(req, ctx),
    registerByPassword: (req, ctx) => password.register(req, ctx),
    loginByPassword: (req, ctx) => password.login(req, ctx),
    refreshToken: async (req) => ({ token: await sessions.refresh(given(req.refreshToken) ?? "") }),
    revokeRefreshToken: (req) => sessions.revoke(given(req.refreshToken) ?? ""),
    listOAuthProviders: async () => {
      const status = deps.github.status();
      return { providers: [{ name: deps.github.name, enabled: status.enabled, ...(status.reason ? { reason: status.reason } : {}) }] };
    },
    async getCurrentUserLoginInfo(req, ctx) {
      const token = ctx.bearerToken ?? given(req.accessToken);
      if (!token) throw new AppError("ACCESS_TOKEN_REQUIRED", MESSAGES.accessTokenRequired);
      const userId = await authenticate(token);
      const user = await users.findById(userId);
      if (!user) throw new AppError("INVALID_ACCESS_TOKEN", MESSAGES.invalidAccessToken);
      const identities = await users.listIdentities(user.id);
      const github = identities.find((i) => i.provider === "github");
      return {
        userId: user.id,
        email: user.email,
        ...(github ? { githubId: github.providerUserId } : {}),
        passwordEnabled: user.passwordHash !== null,
        oauthConnections: identities.map((i) => ({ provider: i.provider, providerUserId: i.providerUserId })),
      };
    },
  };
}
