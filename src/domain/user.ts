export interface User {
  /** UUID v4. */
  id: string;
  /** Normalised (trimmed, lower-cased) address; unique. */
  email: string;
  /** Argon2id PHC string, or null when the account has no password login. */
  passwordHash: string | null;
  /** False until the owner proved the address (email code or verified GitHub primary email). */
  emailVerified: boolean;
  /** Unix milliseconds. */
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  disabled: boolean;
}

export interface ExternalIdentity {
  provider: string;
  providerUserId: string;
  userId: string;
  createdAt: number;
}
