// When the limiter's store is down, fail-open checks (password login) skip it for a while instead of
// each waiting out the store's timeout; fail-closed paths (codes) keep answering UNAVAILABLE.
import { expect, test } from "bun:test";
import { createMemoryEphemeralStore } from "../../src/adapters/memory/index.ts";
import { createManualClock } from "../../src/adapters/system/clock.ts";
import { createLogger } from "../../src/adapters/system/logger.ts";
import { AppError } from "../../src/domain/errors.ts";
import type { EphemeralStore } from "../../src/ports/ephemeral-store.ts";
import { createMetrics } from "../../src/services/metrics.ts";
import { createRateLimiter, STORE_BREAKER_MS } from "../../src/services/rate-limiter.ts";

test("a store outage opens the breaker for fail-open calls only", async () => {
  const clock = createManualClock();
  const real = createMemoryEphemeralStore(clock);
  let down = false;
  let calls = 0;
  // The real memory store behind a switch that makes every call fail as an unreachable Redis does.
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls++;
        if (down) return Promise.reject(new AppError("DEPENDENCY_UNAVAILABLE", "redis is unavailable"));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as EphemeralStore;
  const metrics = createMetrics();
  const logger = createLogger({ level: "error", format: "json", now: () => 0, write: () => {} });
  const limiter = createRateLimiter({ store, clock, logger, metrics, config: { failedLogin: { max: 5, window: 60_000 }, codeSend: { max: 5, window: 60_000, cooldown: 0 } } });

  down = true;
  await limiter.checkFailedLogin("a@b.co", "1.2.3.4", true); // fails open, opens the breaker
  const afterFirst = calls;
  for (let i = 0; i < 10; i++) await limiter.reserveFailedLogin("a@b.co", "1.2.3.4", true);
  expect(calls).toBe(afterFirst); // skipped: no call waited on the dead store
  await expect(limiter.checkFailedLogin("a@b.co", "1.2.3.4", false)).rejects.toMatchObject({ reason: "DEPENDENCY_UNAVAILABLE" });
  expect(metrics.registry.render()).toContain("identra_rate_limiter_fail_open_total 11");

  down = false;
  clock.advance(STORE_BREAKER_MS + 1);
  await limiter.recordFailedLogin("a@b.co", "1.2.3.4", true);
  expect(calls).toBeGreaterThan(afterFirst + 1); // the store is tried again and counts
  expect(await real.get("rl:fail:e:a@b.co")).toBe("1");
});
