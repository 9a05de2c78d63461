// SendLoginEmailCode and LoginByEmailCode (contract §5), with the pre-hijack guard.
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError, MESSAGES } from "../domain/errors.ts";
import { normalizeEmail } from "../domain/email.ts";
import { renderLoginCodeMail } from "../domain/login-code-mail.ts";
import type { EphemeralStore } from "../ports/ephemeral-store.ts";
import type { Mailer } from "../ports/mailer.ts";
import type { UserStore } from "../ports/user-store.ts";
import type { Clock, Logger, Random } from "../ports/system.ts";
import type { RequestContext, TokenPair } from "./api.ts";
import type { Metrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { SessionService } from "./session-service.ts";
import { assertEnabled, createOrFind, given, newUser } from "./users.ts";

const CODE_LENGTH = 6;
const MAX_WRONG_TRIES = 5;

// Codes are kept hashed so a store dump does not show them in clear.
const digest = (code: string) => createHash("sha256").update(code).digest();

export function createEmailCodeLogin(deps: {
  users: UserStore;
  store: EphemeralStore;
  mailer: Mailer | null;
  sessions: SessionService;
  limiter: RateLimiter;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics: Metrics;
  codeTtlMs: number;
}) {
  const { users, store, sessions, limiter, clock, random, logger, metrics } = deps;
  const codeKey = (email: string) => `code:${email}`;
  const triesKey = (email: string) => `code-tries:${email}`;

  const wrong = async (email: string, ctx: RequestContext): Promise<never> => {
    await limiter.recordFailedLogin(email, ctx.clientIp, false);
    metrics.logins.inc({ method: "email_code", result: "failure" });
    throw new AppError("INVALID_CODE", MESSAGES.invalidCode);
  };

  /** The owner proved the address: create the account, or verify it (pre-hijack guard). */
  async function proveOwnership(email: string) {
    const existing = await users.findByEmail(email);
    if (!existing) {
      const { user } = await createOrFind(users, newUser(clock, random, email, { passwordHash: null, emailVerified: true }));
      if (user.emailVerified) return user;
      return proveExisting(user.id);
    }
    return existing.emailVerified ? existing : proveExisting(existing.id);
  }

  async function proveExisting(userId: string) {
    const result = await users.markEmailVerified(userId, clock.now());
    if (result && (result.passwordRemoved || result.identitiesRemoved > 0)) {
      const revoked = await sessions.revokeAllForUser(userId);
      logger.warn("unproven sign-up reset after the owner proved the address", { user_id: userId, identities_removed: result.identitiesRemoved, families_revoked: revoked });
    }
    const user = await users.findById(userId);
    if (!user) throw new AppError("INVALID_CODE", MESSAGES.invalidCode);
    return user;
  }

  return {
    async send(req: { email?: string; useHtml?: boolean }, ctx: RequestContext): Promise<void> {
      const raw = given(req.email);
      if (!raw) throw new AppError("INVALID_ARGUMENT", MESSAGES.emailRequired);
      const email = normalizeEmail(raw);
      if (!deps.mailer) throw new AppError("MAIL_DISABLED", MESSAGES.mailDisabled);
      const giveBackCooldown = await limiter.reserveCodeSend(email, ctx.clientIp);
      const code = random.digits(CODE_LENGTH);
      // The latest send replaces earlier codes and resets their wrong-try count.
      await store.set(codeKey(email), digest(code).toString("hex"), deps.codeTtlMs);
      await store.delete(triesKey(email));
      const ttlMinutes = Math.max(1, Math.round(deps.codeTtlMs / 60_000));
      const mail = renderLoginCodeMail({ code, ttlMinutes });
      try {
        await deps.mailer.send({ to: email, subject: mail.subject, text: mail.text, ...(req.useHtml ? { html: mail.html } : {}) });
      } catch (e) {
        // A send that failed leaves no valid code and gives the cooldown back.
        await store.delete(codeKey(email)).catch(() => undefined);
        await giveBackCooldown().catch(() => undefined);
        metrics.dependencyErrors.inc({ dependency: "smtp" });
        throw e;
      }
    },

    async login(req: { email?: string; code?: string }, ctx: RequestContext): Promise<{ token: TokenPair }> {
      const rawEmail = given(req.email);
      const code = given(req.code)?.trim() ?? null;
      if (!rawEmail || !code) throw new AppError("INVALID_ARGUMENT", MESSAGES.emailAndCodeRequired);
      const email = normalizeEmail(rawEmail);
      await limiter.checkFailedLogin(email, ctx.clientIp, false);
      if (!/^\d{6}$/.test(code)) return wrong(email, ctx);
      const stored = await store.get(codeKey(email));
      if (!stored) return wrong(email, ctx);
      // Counted before comparing, so concurrent guesses cannot exceed the limit.
      const tries = await store.increment(triesKey(email), deps.codeTtlMs);
      if (tries.value > MAX_WRONG_TRIES) {
        await store.delete(codeKey(email));
        return wrong(email, ctx);
      }
      if (!timingSafeEqual(Buffer.from(stored, "hex"), digest(code))) {
        if (tries.value >= MAX_WRONG_TRIES) await store.delete(codeKey(email));
        return wrong(email, ctx);
      }
      // Single use: only the request that removes the code may log in with it.
      if ((await store.getAndDelete(codeKey(email))) !== stored) return wrong(email, ctx);
      await store.delete(triesKey(email));
      const user = await proveOwnership(email);
      assertEnabled(user);
      await limiter.clearFailedLogin(email);
      await users.update(user.id, { lastLoginAt: clock.now() }, clock.now());
      metrics.logins.inc({ method: "email_code", result: "success" });
      return { token: await sessions.start(user.id) };
    },
  };
}
