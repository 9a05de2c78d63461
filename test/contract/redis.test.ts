import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRedisEphemeralStore } from "../../src/adapters/redis/index.ts";
import type { RedisEphemeralStore } from "../../src/adapters/redis/index.ts";
import { AppError } from "../../src/domain/errors.ts";
import { startRedis } from "../support/redis-server.ts";
import type { RedisHandle } from "../support/redis-server.ts";
import { runEphemeralStoreContract } from "./ephemeral-store.contract.ts";

let shared: RedisHandle;
beforeAll(async () => {
  shared = await startRedis();
});
afterAll(async () => {
  await shared?.stop();
});

let fixtureCount = 0;
runEphemeralStoreContract("redis", async () => {
  // One server for the suite; a key prefix per test keeps tests apart.
  const store = createRedisEphemeralStore({ urls: [shared.url], keyPrefix: `t${++fixtureCount}:` });
  return { store, advance: (ms) => Bun.sleep(ms), close: () => store.close() };
});

/** Times one call and returns how it settled. */
const timed = async (fn: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> => {
  const started = performance.now();
  try {
    await fn();
    return { ms: performance.now() - started, error: null };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
};

/** Retries `fn` until it resolves or `timeoutMs` passes. */
const eventually = async <T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> => {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
};

describe("redis ephemeral store faults", () => {
  let server: RedisHandle;
  let store: RedisEphemeralStore;
  beforeAll(async () => {
    server = await startRedis();
    store = createRedisEphemeralStore({ urls: [server.url], keyPrefix: "fault:", commandTimeoutMs: 500 });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  test("commands issued before the first connection wait for it instead of failing", async () => {
    const fresh = createRedisEphemeralStore({ urls: [server.url] });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => fresh.setIfAbsent("first", `${i}`, 10_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await fresh.close();
  });

  test("Redis down → every operation rejects fast with DEPENDENCY_UNAVAILABLE; back up → works again", async () => {
    await store.set("k", "v", 60_000);
    expect(await store.get("k")).toBe("v");

    await server.stop();
    const ops: Array<() => Promise<unknown>> = [
      () => store.get("k"),
      () => store.set("k", "v", 1_000),
      () => store.setIfAbsent("k", "v", 1_000),
      () => store.getAndDelete("k"),
      () => store.increment("n", 1_000),
      () => store.ttl("k"),
      () => store.delete("k"),
      () => store.ping(),
    ];
    for (const op of ops) {
      const { ms, error } = await timed(op);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).reason).toBe("DEPENDENCY_UNAVAILABLE");
      expect((error as AppError).message).toBe("redis is unavailable");
      expect(ms).toBeLessThan(2_000);
    }
    // Many callers at once during the outage: none hangs.
    const burst = await timed(() => Promise.allSettled(Array.from({ length: 100 }, () => store.get("k"))));
    expect(burst.ms).toBeLessThan(2_000);

    await server.restart();
    await eventually(() => store.ping(), 10_000);
    await store.set("k", "again", 60_000);
    expect(await store.get("k")).toBe("again");
    expect((await store.increment("n", 60_000)).value).toBe(1);
  }, 30_000);

  test("a client created while Redis is down fails fast, then recovers by itself", async () => {
    await server.stop();
    const early = createRedisEphemeralStore({ urls: [server.url], connectTimeoutMs: 300 });
    const { ms, error } = await timed(() => early.get("x"));
    expect((error as AppError).reason).toBe("DEPENDENCY_UNAVAILABLE");
    expect(ms).toBeLessThan(2_000);
    expect(early.lastError()).not.toBeNull();
    await server.restart();
    await eventually(() => early.ping(), 10_000);
    expect(await early.get("x")).toBeNull();
    await early.close();
  }, 30_000);
});
