import type { RefreshFamily } from "../../domain/refresh-family.ts";
import type { RefreshFamilyStore } from "../../ports/refresh-family-store.ts";

/** RefreshFamilyStore in process memory; each method is atomic on the single JS thread. */
export const createMemoryRefreshFamilyStore = (): RefreshFamilyStore => {
  const families = new Map<string, RefreshFamily>();
  const copy = (f: RefreshFamily | undefined): RefreshFamily | null => (f ? { ...f } : null);

  const revokeOne = (f: RefreshFamily, at: number): boolean => {
    if (f.revokedAt !== null) return false;
    families.set(f.id, { ...f, revokedAt: at });
    return true;
  };

  return {
    create: async (family) => {
      if (families.has(family.id)) throw new Error(`refresh family ${family.id} already exists`);
      families.set(family.id, { ...family });
    },
    get: async (id) => copy(families.get(id)),
    rotate: async (id, expectedJti, next, at) => {
      const f = families.get(id);
      if (!f || f.revokedAt !== null || f.currentJti !== expectedJti) return { kind: "conflict", family: copy(f) };
      const rotated: RefreshFamily = {
        ...f,
        currentJti: next.jti,
        currentAccessJti: next.accessJti,
        currentIssuedAt: next.issuedAt,
        expiresAt: next.expiresAt,
        previousJti: expectedJti,
        rotatedAt: at,
      };
      families.set(id, rotated);
      return { kind: "rotated", family: { ...rotated } };
    },
    revoke: async (id, at) => {
      const f = families.get(id);
      return f ? revokeOne(f, at) : false;
    },
    revokeAllForUser: async (userId, at) => {
      let count = 0;
      for (const f of [...families.values()]) if (f.userId === userId && revokeOne(f, at)) count++;
      return count;
    },
    deleteExpired: async (before) => {
      let count = 0;
      for (const f of [...families.values()]) {
        if (f.expiresAt < before) {
          families.delete(f.id);
          count++;
        }
      }
      return count;
    },
  };
};
