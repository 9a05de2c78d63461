import type { ExternalIdentity, User } from "../domain/user.ts";

export type UserPatch = Partial<Pick<User, "passwordHash" | "emailVerified" | "lastLoginAt" | "disabled">>;

/**
 * Users and their external identities. Every method that can see a duplicate throws
 * AppError("USER_EXISTS") for an email taken, AppError("OAUTH_ALREADY_LINKED") for an identity taken.
 * A store that cannot be reached throws AppError("DEPENDENCY_UNAVAILABLE").
 */
export interface UserStore {
  findById(id: string): Promise<User | null>;
  findByEmail(email: string): Promise<User | null>;
  /** Inserts the user, and the identity in the same transaction when given. */
  create(user: User, identity?: ExternalIdentity): Promise<void>;
  /** Applies the patch and sets updatedAt = at; returns the updated user or null when missing. */
  update(id: string, patch: UserPatch, at: number): Promise<User | null>;
  /**
   * Marks the address as proven. Atomically: when the account was NOT yet verified, everything an
   * unproven sign-up attached to it is removed — its password and its external identities (else
   * whoever registered the address first could bind their own GitHub and keep a way in). Returns what
   * was removed, or null when the user does not exist.
   */
  markEmailVerified(id: string, at: number): Promise<{ passwordRemoved: boolean; identitiesRemoved: number } | null>;

  findIdentity(provider: string, providerUserId: string): Promise<ExternalIdentity | null>;
  listIdentities(userId: string): Promise<ExternalIdentity[]>;
  /**
   * Links an identity to a user. Returns "created", or "unchanged" when this very link exists.
   * Throws OAUTH_ALREADY_LINKED when the identity belongs to another user or the user already has
   * another identity of the same provider.
   */
  linkIdentity(identity: ExternalIdentity): Promise<"created" | "unchanged">;

  /** Liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
