import { AppError } from "../../domain/errors.ts";
import type { SigningKeyRecord } from "../../domain/keys.ts";
import type { KeyStore } from "../../ports/key-store.ts";

const notFound = (kid: string): AppError => new AppError("NOT_FOUND", `signing key ${kid} not found`);

/** KeyStore in process memory; insertion order is the "oldest first" order of list(). */
export const createMemoryKeyStore = (): KeyStore => {
  const keys = new Map<string, SigningKeyRecord>();

  const activeOf = (alg: string): SigningKeyRecord | undefined =>
    [...keys.values()].find((k) => k.alg === alg && k.state === "ACTIVE");

  const activate = (k: SigningKeyRecord, at: number): void => {
    keys.set(k.kid, { ...k, state: "ACTIVE", activatedAt: at, promoteAt: null, retiredAt: null });
  };

  const sorted = (): SigningKeyRecord[] =>
    [...keys.values()].map((k, i) => ({ k, i })).sort((a, b) => a.k.createdAt - b.k.createdAt || a.i - b.i).map((e) => e.k);

  return {
    list: async () => sorted().map((k) => ({ ...k })),
    ensureActive: async (alg, candidate) => {
      const active = activeOf(alg);
      if (active) return { ...active };
      const activatedAt = candidate.activatedAt ?? candidate.createdAt;
      const existing = keys.get(candidate.kid);
      if (existing && existing.alg !== alg) throw new Error(`signing key ${candidate.kid} is not an ${alg} key`);
      activate(existing ?? { ...candidate, alg }, activatedAt);
      return { ...(keys.get(candidate.kid) as SigningKeyRecord) };
    },
    add: async (key) => {
      if (keys.has(key.kid)) return;
      if (key.state === "ACTIVE" && activeOf(key.alg)) {
        throw new Error(`an ACTIVE ${key.alg} key already exists; add the key as PASSIVE and promote it`);
      }
      keys.set(key.kid, { ...key });
    },
    promote: async (kid, at) => {
      const key = keys.get(kid);
      if (!key) throw notFound(kid);
      if (key.state === "ACTIVE") return;
      const active = activeOf(key.alg);
      if (active) keys.set(active.kid, { ...active, state: "PASSIVE" });
      activate(key, at);
    },
    setState: async (kid, state, at) => {
      const key = keys.get(kid);
      if (!key) throw notFound(kid);
      const retiredAt = state === "RETIRED" ? (key.retiredAt ?? at) : null;
      keys.set(kid, { ...key, state, retiredAt });
    },
  };
};
