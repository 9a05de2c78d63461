import type { RefreshFamily, RotationTarget } from "../domain/refresh-family.ts";

export type RotateOutcome =
  /** This call won: the family now points at `next`. */
  | { kind: "rotated"; family: RefreshFamily }
  /** The expected jti was no longer current (another request rotated first, or revoked); fresh state. */
  | { kind: "conflict"; family: RefreshFamily | null };

export interface RefreshFamilyStore {
  create(family: RefreshFamily): Promise<void>;
  get(id: string): Promise<RefreshFamily | null>;
  /**
   * Compare-and-set: when the family is live and its currentJti === expectedJti, moves it to `next`
   * (previousJti = expectedJti, rotatedAt = at). Exactly one of any number of racing callers wins,
   * also across processes sharing the store.
   */
  rotate(id: string, expectedJti: string, next: RotationTarget, at: number): Promise<RotateOutcome>;
  /** Revokes one family; returns false when it was missing or already revoked. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Revokes every live family of the user; returns how many. */
  revokeAllForUser(userId: string, at: number): Promise<number>;
  /** Deletes families that expired before `before` (Unix ms); returns how many. */
  deleteExpired(before: number): Promise<number>;
}
