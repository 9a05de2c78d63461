// Login sessions as refresh-token families: start, rotate (single successor, grace for repeats,
// replay → family revoked), revoke.
import { AppError, MESSAGES } from "../domain/errors.ts";
import type { RefreshFamily } from "../domain/refresh-family.ts";
import type { RefreshFamilyStore } from "../ports/refresh-family-store.ts";
import type { UserStore } from "../ports/user-store.ts";
import type { Clock, Logger, Random } from "../ports/system.ts";
import type { TokenPair } from "./api.ts";
import type { Metrics } from "./metrics.ts";
import { TokenRejected, type TokenService } from "./token-service.ts";

export interface SessionService {
  start(userId: string): Promise<TokenPair>;
  refresh(refreshToken: string): Promise<TokenPair>;
  revoke(refreshToken: string): Promise<void>;
  revokeAllForUser(userId: string): Promise<number>;
}

export function createSessionService(deps: {
  tokens: TokenService;
  families: RefreshFamilyStore;
  users: UserStore;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics: Metrics;
  refreshTtlMs: number;
  reuseIntervalMs: number;
}): SessionService {
  const { tokens, families, users, clock, random, logger, metrics } = deps;
  const revoked = () => new AppError("REFRESH_TOKEN_REVOKED", MESSAGES.refreshTokenRevoked);
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  const pairOf = (f: RefreshFamily) =>
    tokens.issuePair({ userId: f.userId, familyId: f.id, accessJti: f.currentAccessJti, refreshJti: f.currentJti, issuedAt: f.currentIssuedAt });

  async function verifyRefresh(token: string) {
    try {
      return await tokens.verify(token, "refresh");
    } catch (e) {
      if (e instanceof TokenRejected) throw new AppError("INVALID_REFRESH_TOKEN", MESSAGES.invalidRefreshToken);
      throw e;
    }
  }

  async function replayDetected(f: RefreshFamily): Promise<never> {
    if (await families.revoke(f.id, clock.now())) {
      metrics.familiesRevoked.inc({ cause: "reuse" });
      logger.warn("refresh token reuse detected; family revoked", { family_id: f.id, user_id: f.userId });
    }
    metrics.refreshReuse.inc();
    throw revoked();
  }

  return {
    async start(userId) {
      const issuedAt = nowSeconds();
      const now = clock.now();
      const family: RefreshFamily = {
        id: random.uuid(),
        userId,
        currentJti: random.uuid(),
        currentAccessJti: random.uuid(),
        currentIssuedAt: issuedAt,
        previousJti: null,
        rotatedAt: null,
        revokedAt: null,
        createdAt: now,
        expiresAt: issuedAt * 1000 + deps.refreshTtlMs,
      };
      await families.create(family);
      return pairOf(family);
    },

    async refresh(refreshToken) {
      if (!refreshToken) throw new AppError("INVALID_ARGUMENT", MESSAGES.refreshTokenRequired);
      const claims = await verifyRefresh(refreshToken);
      let family = await families.get(claims.fid!);
      if (!family || family.userId !== claims.uid || family.revokedAt !== null) throw revoked();
      const user = await users.findById(family.userId);
      if (!user) throw revoked();
      if (user.disabled) throw new AppError("USER_DISABLED", MESSAGES.userDisabled);

      if (family.currentJti === claims.jti) {
        const issuedAt = nowSeconds();
        const next = { jti: random.uuid(), accessJti: random.uuid(), issuedAt, expiresAt: issuedAt * 1000 + deps.refreshTtlMs };
        const outcome = await families.rotate(family.id, claims.jti, next, clock.now());
        if (outcome.kind === "rotated") return pairOf(outcome.family);
        if (!outcome.family || outcome.family.revokedAt !== null) throw revoked();
        family = outcome.family; // another request rotated first: fall through to the grace check
      }
      const withinGrace =
        family.previousJti === claims.jti && family.rotatedAt !== null && clock.now() - family.rotatedAt <= deps.reuseIntervalMs;
      if (withinGrace) return pairOf(family);
      return replayDetected(family);
    },

    async revoke(refreshToken) {
      if (!refreshToken) throw new AppError("INVALID_ARGUMENT", MESSAGES.refreshTokenRequired);
      const claims = await verifyRefresh(refreshToken);
      if (await families.revoke(claims.fid!, clock.now())) metrics.familiesRevoked.inc({ cause: "revoke" });
    },

    async revokeAllForUser(userId) {
      const n = await families.revokeAllForUser(userId, clock.now());
      if (n) metrics.familiesRevoked.inc({ cause: "account" }, n);
      return n;
    },
  };
}
