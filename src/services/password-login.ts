// RegisterByPassword and LoginByPassword (contract §5).
import { AppError, MESSAGES } from "../domain/errors.ts";
import { normalizeEmail } from "../domain/email.ts";
import { checkPasswordPolicy, PASSWORD_MAX } from "../domain/password-policy.ts";
import type { UserStore } from "../ports/user-store.ts";
import type { Clock, PasswordHasher, Random } from "../ports/system.ts";
import type { RequestContext, TokenPair } from "./api.ts";
import type { Metrics } from "./metrics.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import type { SessionService } from "./session-service.ts";
import { assertEnabled, createOrFind, given, newUser } from "./users.ts";

export function createPasswordLogin(deps: {
  users: UserStore;
  hasher: PasswordHasher;
  sessions: SessionService;
  limiter: RateLimiter;
  clock: Clock;
  random: Random;
  metrics: Metrics;
  autoRegister: boolean;
  setOnFirstLogin: boolean;
}) {
  const { users, hasher, sessions, limiter, clock, random, metrics } = deps;

  const readInput = (req: { email?: string; password?: string }) => {
    const email = given(req.email);
    const password = given(req.password);
    if (!email || !password) throw new AppError("INVALID_ARGUMENT", MESSAGES.emailAndPasswordRequired);
    return { email: normalizeEmail(email), password };
  };

  /** The guess was already counted against the email and IP before it was checked (see reserveFailedLogin). */
  const fail = async (): Promise<never> => {
    metrics.logins.inc({ method: "password", result: "failure" });
    throw new AppError("INVALID_CREDENTIALS", MESSAGES.invalidCredentials);
  };

  const succeed = async (userId: string, email: string, attempt?: { succeeded(): Promise<void> }): Promise<{ token: TokenPair }> => {
    await (attempt ? attempt.succeeded() : limiter.clearFailedLogin(email));
    await users.update(userId, { lastLoginAt: clock.now() }, clock.now());
    metrics.logins.inc({ method: "password", result: "success" });
    return { token: await sessions.start(userId) };
  };

  return {

    async register(req: { email?: string; password?: string }, _ctx: RequestContext) {
      const { email, password } = readInput(req);
      checkPasswordPolicy(password);
      if (await users.findByEmail(email)) throw new AppError("USER_EXISTS", MESSAGES.userExists);
      const user = newUser(clock, random, email, { passwordHash: await hasher.hash(password), emailVerified: false });
      await users.create(user);
      metrics.logins.inc({ method: "password_register", result: "success" });
      return { token: await sessions.start(user.id) };
    },

    async login(req: { email?: string; password?: string }, ctx: RequestContext) {
      const { email, password } = readInput(req);
      // Only the upper bound is checked before hashing: accounts made by the existing service
      // may have passwords shorter than today's minimum.
      if ([...password].length > PASSWORD_MAX) checkPasswordPolicy(password);
      await limiter.checkFailedLogin(email, ctx.clientIp, true);
      let user = await users.findByEmail(email);
      if (!user) {
        if (!deps.autoRegister) {
          await limiter.reserveFailedLogin(email, ctx.clientIp, true);
          // Same Argon2 work as a wrong password, so the answer does not tell the address is unknown.
          await hasher.verify(hasher.unmatchableHash(), password);
          return fail();
        }
        checkPasswordPolicy(password);
        const candidate = newUser(clock, random, email, { passwordHash: await hasher.hash(password), emailVerified: false });
        const outcome = await createOrFind(users, candidate);
        if (outcome.created) {
          metrics.logins.inc({ method: "password_register", result: "success" });
          return { token: await sessions.start(candidate.id) };
        }
        user = outcome.user; // lost a race with another sign-up: verify against that account
      }
      if (!user.passwordHash) {
        if (!deps.setOnFirstLogin) throw new AppError("PASSWORD_LOGIN_NOT_SET_UP", MESSAGES.passwordNotSetUp);
        checkPasswordPolicy(password);
        assertEnabled(user);
        await users.update(user.id, { passwordHash: await hasher.hash(password) }, clock.now());
        return succeed(user.id, email);
      }
      const attempt = await limiter.reserveFailedLogin(email, ctx.clientIp, true);
      if (!(await hasher.verify(user.passwordHash, password))) return fail();
      assertEnabled(user);
      return succeed(user.id, email, attempt);
    },
  };
}
