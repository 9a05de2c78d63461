/**
 * One login's chain of refresh tokens. Only `currentJti` may be rotated. The previous token stays
 * accepted for `auth.refresh_reuse_interval` after its rotation and then yields the same successor
 * (re-signed from the stored claims: RS256 is deterministic, so the strings are identical too).
 */
export interface RefreshFamily {
  id: string;
  userId: string;
  /** jti of the refresh token that may be rotated now. */
  currentJti: string;
  /** jti of the access token issued together with currentJti. */
  currentAccessJti: string;
  /** iat (Unix seconds) of the current pair; with the lifetimes it rebuilds the pair's claims. */
  currentIssuedAt: number;
  /** jti that was rotated into currentJti, or null before the first rotation. */
  previousJti: string | null;
  /** Unix milliseconds of the last rotation. */
  rotatedAt: number | null;
  /** Unix milliseconds; null while live. */
  revokedAt: number | null;
  createdAt: number;
  /** Unix milliseconds after which the family can be deleted (exp of its current refresh token). */
  expiresAt: number;
}

export interface RotationTarget {
  jti: string;
  accessJti: string;
  issuedAt: number;
  expiresAt: number;
}
