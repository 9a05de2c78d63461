import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { SigningKeyRecord } from "../../src/domain/keys.ts";
import type { KeyStore } from "../../src/ports/key-store.ts";
import { aKey, expectAppError } from "./builders.ts";

export interface KeyStoreFixture {
  keys: KeyStore;
  close(): Promise<void>;
}

const activeOf = (list: SigningKeyRecord[], alg = "RS256"): SigningKeyRecord[] =>
  list.filter((k) => k.alg === alg && k.state === "ACTIVE");

/** The KeyStore contract: every adapter (memory, sqlite, mongo) runs exactly this suite. */
export const runKeyStoreContract = (name: string, makeStores: () => Promise<KeyStoreFixture>): void => {
  describe(`KeyStore contract: ${name}`, () => {
    let fixture: KeyStoreFixture;
    let keys: KeyStore;
    beforeEach(async () => {
      fixture = await makeStores();
      keys = fixture.keys;
    });
    afterEach(async () => {
      await fixture.close();
    });

    test("an empty store lists nothing", async () => {
      expect(await keys.list()).toEqual([]);
    });

    test("add, then list oldest first; a duplicate kid is a no-op", async () => {
      const newer = aKey({ createdAt: 2_000, promoteAt: 5_000 });
      const older = aKey({ createdAt: 1_000, state: "RETIRED", retiredAt: 1_500 });
      await keys.add(newer);
      await keys.add(older);
      await keys.add({ ...newer, privateKeyPem: "other", state: "RETIRED" });
      expect(await keys.list()).toEqual([older, newer]);
    });

    test("ensureActive inserts the candidate as ACTIVE when there is none", async () => {
      const candidate = aKey({ createdAt: 3_000 });
      const active = await keys.ensureActive("RS256", candidate);
      expect(active.kid).toBe(candidate.kid);
      expect(active.state).toBe("ACTIVE");
      expect(active.privateKeyPem).toBe(candidate.privateKeyPem);
      expect(active.activatedAt).not.toBeNull();
      expect(activeOf(await keys.list()).map((k) => k.kid)).toEqual([candidate.kid]);
    });

    test("ensureActive returns the existing ACTIVE key and ignores the candidate", async () => {
      const first = await keys.ensureActive("RS256", aKey());
      const second = await keys.ensureActive("RS256", aKey());
      expect(second).toEqual(first);
      expect(await keys.list()).toHaveLength(1);
    });

    test("ensureActive is per algorithm", async () => {
      const rs = await keys.ensureActive("RS256", aKey({ alg: "RS256" }));
      const es = await keys.ensureActive("ES256", aKey({ alg: "ES256" }));
      expect(es.kid).not.toBe(rs.kid);
      const list = await keys.list();
      expect(activeOf(list, "RS256")).toHaveLength(1);
      expect(activeOf(list, "ES256")).toHaveLength(1);
    });

    test("ensureActive racing several times: exactly one ACTIVE, every caller gets it", async () => {
      const candidates = Array.from({ length: 8 }, () => aKey());
      const results = await Promise.all(candidates.map((c) => keys.ensureActive("RS256", c)));
      const kids = new Set(results.map((r) => r.kid));
      expect(kids.size).toBe(1);
      const active = activeOf(await keys.list());
      expect(active).toHaveLength(1);
      expect(kids.has(active[0]?.kid ?? "")).toBe(true);
    });

    test("promote makes the key the only ACTIVE one; the previous becomes PASSIVE", async () => {
      const old = await keys.ensureActive("RS256", aKey({ createdAt: 1_000 }));
      const next = aKey({ createdAt: 2_000, promoteAt: 9_000 });
      await keys.add(next);
      await keys.promote(next.kid, 10_000);
      const list = await keys.list();
      expect(list.find((k) => k.kid === old.kid)?.state).toBe("PASSIVE");
      const promoted = list.find((k) => k.kid === next.kid);
      expect(promoted).toMatchObject({ state: "ACTIVE", activatedAt: 10_000 });
      expect(activeOf(list)).toHaveLength(1);
    });

    test("promote of the ACTIVE key changes nothing", async () => {
      const active = await keys.ensureActive("RS256", aKey());
      await keys.promote(active.kid, 20_000);
      expect(activeOf(await keys.list())).toEqual([active]);
    });

    test("concurrent promotes leave exactly one ACTIVE key", async () => {
      await keys.ensureActive("RS256", aKey({ createdAt: 1_000 }));
      const others = Array.from({ length: 5 }, (_, i) => aKey({ createdAt: 2_000 + i }));
      for (const k of others) await keys.add(k);
      await Promise.all(others.map((k, i) => keys.promote(k.kid, 30_000 + i)));
      expect(activeOf(await keys.list())).toHaveLength(1);
    });

    test("promote of an unknown kid → NOT_FOUND", async () => {
      await expectAppError(keys.promote("no-such-kid", 1), "NOT_FOUND");
    });

    test("setState RETIRED records retiredAt; PASSIVE keeps the key published", async () => {
      const a = aKey({ createdAt: 1_000 });
      const b = aKey({ createdAt: 2_000 });
      await keys.add(a);
      await keys.add(b);
      await keys.setState(a.kid, "RETIRED", 40_000);
      await keys.setState(b.kid, "PASSIVE", 40_000);
      const [ra, rb] = await keys.list();
      expect(ra).toMatchObject({ kid: a.kid, state: "RETIRED", retiredAt: 40_000 });
      expect(rb).toMatchObject({ kid: b.kid, state: "PASSIVE", retiredAt: null });
    });

    test("setState can demote the ACTIVE key", async () => {
      const active = await keys.ensureActive("RS256", aKey());
      await keys.setState(active.kid, "PASSIVE", 50_000);
      expect(activeOf(await keys.list())).toEqual([]);
    });

    test("setState of an unknown kid → NOT_FOUND", async () => {
      await expectAppError(keys.setState("no-such-kid", "RETIRED", 1), "NOT_FOUND");
    });
  });
};
