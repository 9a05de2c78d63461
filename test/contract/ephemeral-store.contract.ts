import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { EphemeralStore } from "../../src/ports/ephemeral-store.ts";

export interface EphemeralStoreFixture {
  store: EphemeralStore;
  /** Lets `ms` pass for the store: moves an injected clock (memory) or really waits (redis). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Short TTL used for expiry checks: small enough that a real Redis test stays fast. */
const SHORT = 200;

/**
 * The EphemeralStore contract: memory and redis run exactly this suite. Keys are unique per test;
 * the fixture should also isolate stores (e.g. a key prefix per fixture on a shared Redis).
 */
export const runEphemeralStoreContract = (name: string, makeStore: () => Promise<EphemeralStoreFixture>): void => {
  describe(`EphemeralStore contract: ${name}`, () => {
    let fixture: EphemeralStoreFixture;
    let store: EphemeralStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.close();
    });

    test("kind is memory or redis; ping resolves", async () => {
      expect(["memory", "redis"]).toContain(store.kind);
      await store.ping();
    });

    test("get of an absent key → null", async () => {
      expect(await store.get("absent")).toBeNull();
      expect(await store.ttl("absent")).toBeNull();
    });

    test("set, get, overwrite", async () => {
      await store.set("k", "v1", 60_000);
      expect(await store.get("k")).toBe("v1");
      await store.set("k", "v2", 60_000);
      expect(await store.get("k")).toBe("v2");
    });

    test("ttl reports the milliseconds left", async () => {
      await store.set("k", "v", 10_000);
      const left = await store.ttl("k");
      expect(left).not.toBeNull();
      expect(left as number).toBeGreaterThan(9_000);
      expect(left as number).toBeLessThanOrEqual(10_000);
    });

    test("a key expires after its TTL", async () => {
      await store.set("k", "v", SHORT);
      await fixture.advance(SHORT + 100);
      expect(await store.get("k")).toBeNull();
      expect(await store.ttl("k")).toBeNull();
      expect(await store.getAndDelete("k")).toBeNull();
    });

    test("setIfAbsent sets only when absent (and again after expiry)", async () => {
      expect(await store.setIfAbsent("k", "first", SHORT)).toBe(true);
      expect(await store.setIfAbsent("k", "second", 60_000)).toBe(false);
      expect(await store.get("k")).toBe("first");
      await fixture.advance(SHORT + 100);
      expect(await store.setIfAbsent("k", "third", 60_000)).toBe(true);
      expect(await store.get("k")).toBe("third");
    });

    test("concurrent setIfAbsent: exactly one caller sets", async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.setIfAbsent("k", `v${i}`, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test("getAndDelete returns the value once", async () => {
      await store.set("k", "v", 60_000);
      expect(await store.getAndDelete("k")).toBe("v");
      expect(await store.getAndDelete("k")).toBeNull();
      expect(await store.get("k")).toBeNull();
    });

    test("getAndDelete under 50 concurrent callers: exactly one gets the value", async () => {
      await store.set("code", "123456", 60_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.getAndDelete("code")));
      expect(results.filter((r) => r === "123456")).toHaveLength(1);
      expect(results.filter((r) => r === null)).toHaveLength(49);
    });

    test("increment counts from 1 and returns the TTL left", async () => {
      expect(await store.increment("n", 60_000)).toMatchObject({ value: 1 });
      expect((await store.increment("n", 60_000)).value).toBe(2);
      const third = await store.increment("n", 60_000);
      expect(third.value).toBe(3);
      expect(third.ttlMs).toBeGreaterThan(59_000);
      expect(third.ttlMs).toBeLessThanOrEqual(60_000);
    });

    test("increment sets the TTL once: later increments do not extend it", async () => {
      const first = await store.increment("n", SHORT * 2);
      expect(first.ttlMs).toBeGreaterThan(SHORT);
      await fixture.advance(SHORT / 2 + 50);
      const second = await store.increment("n", SHORT * 2);
      expect(second.value).toBe(2);
      expect(second.ttlMs).toBeLessThanOrEqual(SHORT * 2 - SHORT / 2);
      await fixture.advance(SHORT * 2);
      expect(await store.get("n")).toBeNull();
      expect((await store.increment("n", SHORT * 2)).value).toBe(1);
    });

    test("concurrent increments each get a distinct value", async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => store.increment("n", 60_000)));
      const values = results.map((r) => r.value).sort((a, b) => a - b);
      expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await store.get("n")).toBe("50");
    });

    test("increment by a negative amount gives back a reservation and keeps the TTL", async () => {
      await store.increment("n", 60_000);
      const reserved = await store.increment("n", 60_000, 1);
      expect(reserved.value).toBe(2);
      const back = await store.increment("n", 60_000, -1);
      expect(back.value).toBe(1);
      expect(back.ttlMs).toBeGreaterThan(0);
      expect(back.ttlMs).toBeLessThanOrEqual(60_000);
      expect(await store.get("n")).toBe("1");
    });

    test("delete removes a key; deleting an absent key is fine", async () => {
      await store.set("k", "v", 60_000);
      await store.delete("k");
      expect(await store.get("k")).toBeNull();
      await store.delete("k");
    });

    test("keys are independent", async () => {
      await store.set("a", "1", 60_000);
      await store.set("b", "2", 60_000);
      await store.delete("a");
      expect(await store.get("b")).toBe("2");
    });
  });
};
