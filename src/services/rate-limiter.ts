// Counters in the ephemeral store (shared by replicas when it is Redis) for failed logins and
// code sends, per email and per client IP.
import { AppError, isAppError, MESSAGES } from "../domain/errors.ts";
import type { EphemeralStore } from "../ports/ephemeral-store.ts";
import type { Clock, Logger } from "../ports/system.ts";
import type { Metrics } from "./metrics.ts";

export interface RateLimitConfig {
  failedLogin: { max: number; window: number };
  codeSend: { max: number; window: number; cooldown: number };
}

export interface RateLimiter {
  /** Throws RATE_LIMITED when the email or IP used up its failed logins. `failOpen`: a store outage lets the call through. */
  checkFailedLogin(email: string, ip: string, failOpen: boolean): Promise<void>;
  recordFailedLogin(email: string, ip: string, failOpen: boolean): Promise<void>;
  /**
   * Counts a guess against the email AND the client IP before it is checked (atomic increments), so a
   * burst of concurrent guesses — for one address or spread over many — cannot get more than `max`
   * checked; throws RATE_LIMITED past the limit. A success then gives the IP's count back
   * (`succeeded()`, which also clears the email's count); a failure keeps both.
   */
  reserveFailedLogin(email: string, ip: string, failOpen: boolean): Promise<{ succeeded(): Promise<void> }>;
  clearFailedLogin(email: string): Promise<void>;
  /** Takes one code send (cooldown + hourly counters); returns a function that gives the cooldown back. */
  reserveCodeSend(email: string, ip: string): Promise<() => Promise<void>>;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** After the store failed, fail-open calls skip it this long instead of each waiting out a timeout. */
export const STORE_BREAKER_MS = 5_000;

export function createRateLimiter(deps: { store: EphemeralStore; config: RateLimitConfig; logger: Logger; metrics: Metrics; clock: Clock }): RateLimiter {
  const { store, config, logger, metrics, clock } = deps;
  let storeDownUntil = 0;
  const failKeys = (email: string, ip: string) => [`rl:fail:e:${email}`, `rl:fail:ip:${ip}`];

  const tolerate = async (failOpen: boolean, work: () => Promise<void>) => {
    if (failOpen && clock.now() < storeDownUntil) {
      metrics.rateLimiterFailOpen.inc();
      return;
    }
    try {
      await work();
    } catch (e) {
      if (isAppError(e) && e.reason === "DEPENDENCY_UNAVAILABLE") {
        storeDownUntil = clock.now() + STORE_BREAKER_MS;
        if (failOpen) {
          metrics.rateLimiterFailOpen.inc();
          logger.warn("rate limiter store unavailable; letting the login through", { error: e.message });
          return;
        }
      }
      throw e;
    }
  };

  const limited = (limit: string, message: string, ttlMs: number | null, fallbackMs: number) => {
    metrics.rateLimited.inc({ limit });
    return new AppError("RATE_LIMITED", message, { retryAfterSeconds: seconds(ttlMs ?? fallbackMs) });
  };

  return {
    checkFailedLogin: (email, ip, failOpen) =>
      tolerate(failOpen, async () => {
        for (const key of failKeys(email, ip)) {
          const count = Number((await store.get(key)) ?? 0);
          if (count >= config.failedLogin.max) {
            throw limited("failed_login", MESSAGES.tooManyFailed, await store.ttl(key), config.failedLogin.window);
          }
        }
      }),

    recordFailedLogin: (email, ip, failOpen) =>
      tolerate(failOpen, async () => {
        await Promise.all(failKeys(email, ip).map((k) => store.increment(k, config.failedLogin.window)));
      }),

    async reserveFailedLogin(email, ip, failOpen) {
      const [emailKey, ipKey] = failKeys(email, ip) as [string, string];
      let ipCounted = false;
      await tolerate(failOpen, async () => {
        const [byEmail, byIp] = await Promise.all([emailKey, ipKey].map((k) => store.increment(k, config.failedLogin.window)));
        ipCounted = true;
        for (const taken of [byEmail!, byIp!]) {
          if (taken.value > config.failedLogin.max) throw limited("failed_login", MESSAGES.tooManyFailed, taken.ttlMs, config.failedLogin.window);
        }
      });
      return {
        succeeded: () =>
          tolerate(true, async () => {
            await store.delete(emailKey);
            if (ipCounted) await store.increment(ipKey, config.failedLogin.window, -1);
          }),
      };
    },

    clearFailedLogin: (email) => tolerate(true, () => store.delete(`rl:fail:e:${email}`)),

    async reserveCodeSend(email, ip) {
      const cooldownKey = `rl:code:cooldown:${email}`;
      const hourly = [`rl:code:e:${email}`, `rl:code:ip:${ip}`];
      for (const key of hourly) {
        const count = Number((await store.get(key)) ?? 0);
        if (count >= config.codeSend.max) throw limited("code_send", MESSAGES.tooManyCodes, await store.ttl(key), config.codeSend.window);
      }
      if (config.codeSend.cooldown > 0 && !(await store.setIfAbsent(cooldownKey, "1", config.codeSend.cooldown))) {
        throw limited("code_cooldown", MESSAGES.tooManyCodes, await store.ttl(cooldownKey), config.codeSend.cooldown);
      }
      const giveBack = () => store.delete(cooldownKey);
      // The check above is only a fast path: concurrent sends all pass it, so the atomic increment
      // decides (a send that finds itself past the limit gives the cooldown back and is refused).
      const counts = await Promise.all(hourly.map((k) => store.increment(k, config.codeSend.window)));
      const over = counts.find((c) => c.value > config.codeSend.max);
      if (over) {
        if (config.codeSend.cooldown > 0) await giveBack().catch(() => undefined);
        throw limited("code_send", MESSAGES.tooManyCodes, over.ttlMs, config.codeSend.window);
      }
      return giveBack;
    },
  };
}
