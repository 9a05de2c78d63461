import type { Cluster, Redis } from "ioredis";
import type { EphemeralStore } from "../../ports/ephemeral-store.ts";
import { createRedisClient, mapRedisError, watchFirstConnection, whenReady } from "./client.ts";
import type { RedisConnectionOptions } from "./client.ts";

export interface RedisEphemeralStoreOptions extends RedisConnectionOptions {
  /** Prepended to every key (e.g. "identra:"). */
  keyPrefix?: string;
}

export interface RedisEphemeralStore extends EphemeralStore {
  /** The last connection error ioredis reported (recorded, never printed), or null. */
  lastError(): Error | null;
}

/**
 * INCRBY, start the TTL when the key has none (first increment, or a key that lost it), return both.
 * One script, so the counter can never be left without an expiry.
 */
const INCREMENT_SCRIPT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { value, ttl }
`;

/** Redis needs a positive integer PX: fractional or sub-millisecond TTLs are rounded up. */
const normaliseTtl = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`invalid ttl: ${ttlMs}`);
  return Math.max(1, Math.ceil(ttlMs));
};

type ScriptClient = { identraIncrement(key: string, ttlMs: number, by: number): Promise<[number, number]> };

/** EphemeralStore on Redis (≥ 6.2 for GETDEL) through ioredis; one URL = single node, several = Cluster. */
export const createRedisEphemeralStore = (options: RedisEphemeralStoreOptions): RedisEphemeralStore => {
  const client: Redis | Cluster = createRedisClient(options);
  const prefix = options.keyPrefix ?? "";
  const connectWaitMs = options.connectTimeoutMs ?? 2000;
  const first = watchFirstConnection(client);
  let lastError: Error | null = null;
  client.on("error", (error: Error) => {
    lastError = error;
  });
  client.defineCommand("identraIncrement", { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
  const scripts = client as unknown as ScriptClient;

  const k = (key: string): string => prefix + key;
  const exec = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      await whenReady(client, first, connectWaitMs);
      return await fn();
    } catch (error) {
      throw mapRedisError(error);
    }
  };

  return {
    kind: "redis",
    lastError: () => lastError,
    get: (key) => exec(() => client.get(k(key))),
    set: (key, value, ttlMs) => exec(async () => void (await client.set(k(key), value, "PX", normaliseTtl(ttlMs)))),
    setIfAbsent: (key, value, ttlMs) =>
      exec(async () => (await client.set(k(key), value, "PX", normaliseTtl(ttlMs), "NX")) === "OK"),
    getAndDelete: (key) => exec(() => client.getdel(k(key))),
    increment: (key, ttlMs, by = 1) =>
      exec(async () => {
        if (!Number.isSafeInteger(by)) throw new RangeError(`invalid increment: ${by}`);
        const [value, ttl] = await scripts.identraIncrement(k(key), normaliseTtl(ttlMs), by);
        return { value: Number(value), ttlMs: Number(ttl) };
      }),
    ttl: (key) =>
      exec(async () => {
        const ms = await client.pttl(k(key));
        // -2: absent. -1 (no expiry) cannot come from this store's writes; treat it as unknown.
        return ms < 0 ? null : ms;
      }),
    delete: (key) => exec(async () => void (await client.del(k(key)))),
    ping: () => exec(async () => void (await client.ping())),
    close: async () => {
      if (client.status === "ready") {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
};
