/**
 * Short-lived shared state: email codes, OAuth states, rate-limit counters. Redis when configured
 * (shared by replicas), an in-process map otherwise. TTLs are milliseconds. A store that cannot be
 * reached throws AppError("DEPENDENCY_UNAVAILABLE").
 */
export interface EphemeralStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets only when absent; returns whether it was set. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomically reads and removes. */
  getAndDelete(key: string): Promise<string | null>;
  /**
   * Atomically adds `by` (default 1; negative gives back an earlier reservation); the TTL starts with
   * the first increment. Returns the new value and the ms left.
   */
  increment(key: string, ttlMs: number, by?: number): Promise<{ value: number; ttlMs: number }>;
  /** Milliseconds left, or null when the key is absent. */
  ttl(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** "memory" stores are per-process: replicas need "redis". */
  readonly kind: "memory" | "redis";
}
