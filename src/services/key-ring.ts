// The in-memory view of the signing keys kept in the KeyStore. Every replica builds it from the
// shared store and re-reads it periodically, so a rotation done anywhere is seen everywhere.
import { createHash } from "node:crypto";
import { AppError } from "../domain/errors.ts";
import type { SigningAlgorithm, SigningKeyRecord } from "../domain/keys.ts";
import type { KeyStore } from "../ports/key-store.ts";
import type { Clock, Logger } from "../ports/system.ts";
import type { JwksResult } from "./api.ts";
import { generateKeyPem, loadKeyMaterial, toPkcs8, type KeyMaterial } from "./key-material.ts";

export interface KeyRing {
  /** Loads (and on first start creates) the keys. */
  init(): Promise<void>;
  /** Re-reads the store; applies due promotions. */
  refresh(): Promise<void>;
  active(): KeyMaterial;
  /** ACTIVE or PASSIVE key by kid; RETIRED and unknown kids are undefined. */
  find(kid: string): KeyMaterial | undefined;
  jwks(): JwksResult;
  /** Calls `listener` after every change of the JWKS document; returns the unsubscribe function. */
  onJwksChange(listener: () => void): () => void;
  startAutoRefresh(intervalMs: number): void;
  stop(): void;
}

export function createKeyRing(deps: {
  store: KeyStore;
  clock: Clock;
  logger: Logger;
  algorithm: SigningAlgorithm;
  /** auth.rsa_private_key; empty to use/generate the stored key. */
  configuredPem: string;
}): KeyRing {
  const { store, clock, logger, algorithm } = deps;
  const cache = new Map<string, KeyMaterial>(); // kid → imported keys, imported once
  let usable = new Map<string, KeyMaterial>();
  let activeKid = "";
  let jwks: JwksResult = { keys: [], body: '{"keys":[]}', etag: '""' };
  let fingerprint = "";
  let timer: ReturnType<typeof setInterval> | undefined;
  const listeners = new Set<() => void>();

  const material = async (record: SigningKeyRecord) => {
    let m = cache.get(record.kid);
    if (!m) {
      m = await loadKeyMaterial(record.privateKeyPem, record.alg);
      cache.set(record.kid, m);
    }
    return m;
  };

  const record = (pkcs8: string, kid: string, alg: SigningAlgorithm, state: "ACTIVE" | "PASSIVE"): SigningKeyRecord => {
    const now = clock.now();
    return { kid, alg, privateKeyPem: pkcs8, state, createdAt: now, promoteAt: null, activatedAt: state === "ACTIVE" ? now : null, retiredAt: null };
  };

  async function bootstrap() {
    if (deps.configuredPem) {
      let parsed;
      try {
        parsed = toPkcs8(deps.configuredPem);
      } catch (e) {
        throw new Error(`invalid configuration: auth.rsa_private_key: ${(e as Error).message}`);
      }
      if (parsed.alg !== algorithm) {
        throw new Error(`invalid configuration: auth.rsa_private_key: the key is for ${parsed.alg} but auth.signing_algorithm is ${algorithm}`);
      }
      const m = await loadKeyMaterial(parsed.pkcs8, parsed.alg);
      const existing = (await store.list()).find((k) => k.kid === m.kid);
      if (!existing) await store.add(record(parsed.pkcs8, m.kid, parsed.alg, "PASSIVE"));
      if (existing?.state !== "ACTIVE") await store.promote(m.kid, clock.now());
      return;
    }
    const keys = await store.list();
    if (keys.some((k) => k.state === "ACTIVE" && k.alg === algorithm)) return;
    const pkcs8 = await generateKeyPem(algorithm);
    const m = await loadKeyMaterial(pkcs8, algorithm);
    const winner = await store.ensureActive(algorithm, record(pkcs8, m.kid, algorithm, "ACTIVE"));
    if (winner.kid === m.kid) logger.info("generated a new signing key", { kid: m.kid, alg: algorithm });
  }

  async function refresh() {
    let records = await store.list();
    const now = clock.now();
    const due = records.filter((k) => k.state === "PASSIVE" && k.promoteAt !== null && k.promoteAt <= now);
    for (const k of due) {
      await store.promote(k.kid, now);
      logger.info("promoted signing key", { kid: k.kid });
    }
    if (due.length) records = await store.list();
    const next = new Map<string, KeyMaterial>();
    let nextActive = "";
    for (const r of records) {
      if (r.state === "RETIRED") continue;
      next.set(r.kid, await material(r));
      if (r.state === "ACTIVE" && r.alg === algorithm) nextActive = r.kid;
    }
    if (!nextActive) throw new AppError("DEPENDENCY_UNAVAILABLE", `no ACTIVE ${algorithm} signing key in the key store`);
    usable = next;
    activeKid = nextActive;
    const keys = [...next.values()].map((m) => m.jwk).sort((a, b) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0));
    const body = JSON.stringify({ keys });
    if (body !== fingerprint) {
      fingerprint = body;
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
      jwks = { keys, body, etag };
      for (const listener of listeners) {
        try {
          listener();
        } catch (e) {
          logger.warn("jwks change listener failed", { error: (e as Error).message });
        }
      }
    }
  }

  return {
    async init() {
      await bootstrap();
      await refresh();
    },
    refresh,
    active() {
      const m = usable.get(activeKid);
      if (!m) throw new AppError("INTERNAL", "key ring not initialised");
      return m;
    },
    find: (kid) => usable.get(kid),
    jwks: () => jwks,
    onJwksChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    startAutoRefresh(intervalMs) {
      timer = setInterval(() => {
        refresh().catch((e) => logger.warn("key ring refresh failed", { error: (e as Error).message }));
      }, intervalMs);
      timer.unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
