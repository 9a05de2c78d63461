/** The one place time comes from. */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
}

/** The one place randomness comes from (a CSPRNG in production, seeded in tests). */
export interface Random {
  bytes(length: number): Uint8Array;
  uuid(): string;
  /** A string of `length` decimal digits, uniformly distributed. */
  digits(length: number): string;
}

export interface PasswordHasher {
  /** Argon2id PHC string, computed off the event loop. */
  hash(password: string): Promise<string>;
  /** Reads the parameters from the PHC string; false for a malformed hash. */
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * A well-formed PHC string with the configured parameters that no password matches: verifying
   * against it costs what a wrong password costs (used when an email is unknown), with no hashing
   * at startup.
   */
  unmatchableHash(): string;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
