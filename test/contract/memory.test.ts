import { describe, expect, test } from "bun:test";
import {
  createMemoryEphemeralStore,
  createMemoryKeyStore,
  createMemoryRefreshFamilyStore,
  createMemoryUserStore,
} from "../../src/adapters/memory/index.ts";
import type { Clock } from "../../src/ports/system.ts";
import { runEphemeralStoreContract } from "./ephemeral-store.contract.ts";
import { runKeyStoreContract } from "./key-store.contract.ts";
import { runRefreshFamilyStoreContract } from "./refresh-family-store.contract.ts";
import { runUserStoreContract } from "./user-store.contract.ts";

const none = async (): Promise<void> => {};

/** A clock tests move by hand. */
const manualClock = (start = 1_700_000_000_000): Clock & { advance(ms: number): void } => {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
};

runUserStoreContract("memory", async () => ({ users: createMemoryUserStore(), close: none }));
runKeyStoreContract("memory", async () => ({ keys: createMemoryKeyStore(), close: none }));
runRefreshFamilyStoreContract("memory", async () => ({ families: createMemoryRefreshFamilyStore(), close: none }));
runEphemeralStoreContract("memory", async () => {
  const clock = manualClock();
  const store = createMemoryEphemeralStore(clock);
  return { store, advance: async (ms) => clock.advance(ms), close: () => store.close() };
});

describe("memory ephemeral store specifics", () => {
  test("expiry follows the injected clock only, not wall time", async () => {
    const clock = manualClock();
    const store = createMemoryEphemeralStore(clock);
    await store.set("k", "v", 10);
    await Bun.sleep(30);
    expect(await store.get("k")).toBe("v");
    clock.advance(10);
    expect(await store.get("k")).toBeNull();
    await store.close();
  });

  test("the periodic sweep drops expired entries without any read", async () => {
    const clock = manualClock();
    const store = createMemoryEphemeralStore(clock, { sweepIntervalMs: 5 });
    await store.set("k", "v", 10);
    await store.set("keep", "v", 1_000);
    expect(store.size()).toBe(2);
    clock.advance(20);
    await Bun.sleep(30);
    expect(store.size()).toBe(1);
    await store.close();
  });
});
