import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { RotationTarget } from "../../src/domain/refresh-family.ts";
import type { RefreshFamilyStore } from "../../src/ports/refresh-family-store.ts";
import { aFamily } from "./builders.ts";

export interface RefreshFamilyStoreFixture {
  families: RefreshFamilyStore;
  close(): Promise<void>;
}

const target = (n: number): RotationTarget => ({
  jti: `next-jti-${n}`,
  accessJti: `next-ajti-${n}`,
  issuedAt: 1_700_000_100 + n,
  expiresAt: 1_700_700_000_000 + n,
});

/** The RefreshFamilyStore contract: every adapter (memory, sqlite, mongo) runs exactly this suite. */
export const runRefreshFamilyStoreContract = (
  name: string,
  makeStores: () => Promise<RefreshFamilyStoreFixture>,
): void => {
  describe(`RefreshFamilyStore contract: ${name}`, () => {
    let fixture: RefreshFamilyStoreFixture;
    let families: RefreshFamilyStore;
    beforeEach(async () => {
      fixture = await makeStores();
      families = fixture.families;
    });
    afterEach(async () => {
      await fixture.close();
    });

    test("create, then get; unknown id → null", async () => {
      const f = aFamily();
      await families.create(f);
      expect(await families.get(f.id)).toEqual(f);
      expect(await families.get("no-such-family")).toBeNull();
    });

    test("rotate with the current jti moves the family to the target", async () => {
      const f = aFamily();
      await families.create(f);
      const outcome = await families.rotate(f.id, f.currentJti, target(1), 1_700_000_100_000);
      const expected = {
        ...f,
        currentJti: "next-jti-1",
        currentAccessJti: "next-ajti-1",
        currentIssuedAt: 1_700_000_101,
        expiresAt: 1_700_700_000_001,
        previousJti: f.currentJti,
        rotatedAt: 1_700_000_100_000,
      };
      expect(outcome).toEqual({ kind: "rotated", family: expected });
      expect(await families.get(f.id)).toEqual(expected);
    });

    test("rotate with a stale jti → conflict with the fresh state", async () => {
      const f = aFamily();
      await families.create(f);
      await families.rotate(f.id, f.currentJti, target(1), 1_000);
      const outcome = await families.rotate(f.id, f.currentJti, target(2), 2_000);
      expect(outcome.kind).toBe("conflict");
      expect(outcome.family?.currentJti).toBe("next-jti-1");
      expect(outcome.family?.previousJti).toBe(f.currentJti);
    });

    test("rotate of an unknown family → conflict with null", async () => {
      expect(await families.rotate("no-such-family", "jti", target(1), 1)).toEqual({ kind: "conflict", family: null });
    });

    test("rotate of a revoked family → conflict, nothing changes", async () => {
      const f = aFamily();
      await families.create(f);
      await families.revoke(f.id, 5_000);
      const outcome = await families.rotate(f.id, f.currentJti, target(1), 6_000);
      expect(outcome).toEqual({ kind: "conflict", family: { ...f, revokedAt: 5_000 } });
    });

    test("100 concurrent rotations of one jti: exactly one wins", async () => {
      const f = aFamily();
      await families.create(f);
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) => families.rotate(f.id, f.currentJti, target(i), 1_000 + i)),
      );
      const winners = outcomes.filter((o) => o.kind === "rotated");
      expect(winners).toHaveLength(1);
      const stored = await families.get(f.id);
      expect(stored).toEqual(winners[0]?.family ?? null);
      expect(stored?.previousJti).toBe(f.currentJti);
      for (const o of outcomes) if (o.kind === "conflict") expect(o.family?.currentJti).not.toBe(f.currentJti);
    });

    test("revoke: true once, then false; unknown → false", async () => {
      const f = aFamily();
      await families.create(f);
      expect(await families.revoke(f.id, 7_000)).toBe(true);
      expect(await families.revoke(f.id, 8_000)).toBe(false);
      expect((await families.get(f.id))?.revokedAt).toBe(7_000);
      expect(await families.revoke("no-such-family", 8_000)).toBe(false);
    });

    test("revokeAllForUser revokes only that user's live families and counts them", async () => {
      const userId = aFamily().userId;
      const a = aFamily({ userId });
      const b = aFamily({ userId });
      const already = aFamily({ userId, revokedAt: 1_000 });
      const other = aFamily();
      for (const f of [a, b, already, other]) await families.create(f);
      expect(await families.revokeAllForUser(userId, 9_000)).toBe(2);
      expect((await families.get(a.id))?.revokedAt).toBe(9_000);
      expect((await families.get(b.id))?.revokedAt).toBe(9_000);
      expect((await families.get(already.id))?.revokedAt).toBe(1_000);
      expect((await families.get(other.id))?.revokedAt).toBeNull();
      expect(await families.revokeAllForUser(userId, 10_000)).toBe(0);
    });

    test("deleteExpired removes families that expired before the cut-off", async () => {
      const old = aFamily({ expiresAt: 1_000 });
      const oldRevoked = aFamily({ expiresAt: 1_500, revokedAt: 500 });
      const edge = aFamily({ expiresAt: 2_000 });
      const live = aFamily({ expiresAt: 3_000 });
      for (const f of [old, oldRevoked, edge, live]) await families.create(f);
      expect(await families.deleteExpired(2_000)).toBe(2);
      expect(await families.get(old.id)).toBeNull();
      expect(await families.get(oldRevoked.id)).toBeNull();
      expect(await families.get(edge.id)).toEqual(edge);
      expect(await families.get(live.id)).toEqual(live);
      expect(await families.deleteExpired(2_000)).toBe(0);
    });
  });
};
