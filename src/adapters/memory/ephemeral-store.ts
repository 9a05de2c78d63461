import type { EphemeralStore } from "../../ports/ephemeral-store.ts";
import type { Clock } from "../../ports/system.ts";

export interface MemoryEphemeralStoreOptions {
  /** How often expired entries are swept (lazy expiry covers reads in between). Default 60 s. */
  sweepIntervalMs?: number;
}

interface Entry {
  value: string;
  /** Unix ms per the injected clock. */
  expiresAt: number;
}

export interface MemoryEphemeralStore extends EphemeralStore {
  /** Entries held right now, expired-but-not-yet-swept ones included (for tests and metrics). */
  size(): number;
}

/** TTLs below 1 ms (or fractional) are rounded up, as Redis needs a positive integer PX. */
export const normaliseTtl = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`invalid ttl: ${ttlMs}`);
  return Math.max(1, Math.ceil(ttlMs));
};

/**
 * EphemeralStore in process memory (single instance only). Expiry follows the injected clock, so
 * tests move time by moving the clock. Entries expire lazily on access and by a periodic sweep
 * whose timer is unref'd (it never keeps the process alive).
 */
export const createMemoryEphemeralStore = (clock: Clock, options: MemoryEphemeralStoreOptions = {}): MemoryEphemeralStore => {
  const entries = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const e = entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return e;
  };

  const sweep = (): void => {
    const now = clock.now();
    for (const [key, e] of entries) if (e.expiresAt <= now) entries.delete(key);
  };
  const timer = setInterval(sweep, options.sweepIntervalMs ?? 60_000);
  timer.unref();

  const put = (key: string, value: string, ttlMs: number): void => {
    entries.set(key, { value, expiresAt: clock.now() + normaliseTtl(ttlMs) });
  };

  return {
    kind: "memory",
    size: () => entries.size,
    get: async (key) => live(key)?.value ?? null,
    set: async (key, value, ttlMs) => put(key, value, ttlMs),
    setIfAbsent: async (key, value, ttlMs) => {
      if (live(key)) return false;
      put(key, value, ttlMs);
      return true;
    },
    getAndDelete: async (key) => {
      const e = live(key);
      entries.delete(key);
      return e?.value ?? null;
    },
    increment: async (key, ttlMs, by = 1) => {
      if (!Number.isSafeInteger(by)) throw new RangeError(`invalid increment: ${by}`);
      const e = live(key);
      if (!e) {
        put(key, String(by), ttlMs);
        return { value: by, ttlMs: normaliseTtl(ttlMs) };
      }
      const current = Number(e.value);
      if (!Number.isSafeInteger(current)) throw new Error(`value at ${key} is not an integer`);
      e.value = String(current + by);
      return { value: current + by, ttlMs: e.expiresAt - clock.now() };
    },
    ttl: async (key) => {
      const e = live(key);
      return e ? e.expiresAt - clock.now() : null;
    },
    delete: async (key) => {
      entries.delete(key);
    },
    ping: async () => {},
    close: async () => {
      clearInterval(timer);
      entries.clear();
    },
  };
};
