import type { KeyState, SigningAlgorithm, SigningKeyRecord } from "../domain/keys.ts";

export interface KeyStore {
  /** Every key, RETIRED ones included, oldest first. */
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Bootstrap used by every replica at start: when no ACTIVE key of `alg` exists, inserts
   * `candidate` as ACTIVE. Returns the ACTIVE key of `alg` afterwards (the candidate or the one a
   * racing replica inserted first).
   */
  ensureActive(alg: SigningAlgorithm, candidate: SigningKeyRecord): Promise<SigningKeyRecord>;
  /** Inserts a key (a duplicate kid is a no-op). */
  add(key: SigningKeyRecord): Promise<void>;
  /** Makes `kid` the only ACTIVE key of its algorithm; the previous ACTIVE one becomes PASSIVE. Atomic. */
  promote(kid: string, at: number): Promise<void>;
  /** Sets the state of one key (PASSIVE or RETIRED). Throws NOT_FOUND for an unknown kid. */
  setState(kid: string, state: Exclude<KeyState, "ACTIVE">, at: number): Promise<void>;
}
