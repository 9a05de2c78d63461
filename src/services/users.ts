// Small user helpers shared by the login services.
import { AppError, isAppError, MESSAGES } from "../domain/errors.ts";
import type { ExternalIdentity, User } from "../domain/user.ts";
import type { UserStore } from "../ports/user-store.ts";
import type { Clock, Random } from "../ports/system.ts";

export function newUser(clock: Clock, random: Random, email: string, fields: Pick<User, "passwordHash" | "emailVerified">): User {
  const now = clock.now();
  return { id: random.uuid(), email, createdAt: now, updatedAt: now, lastLoginAt: now, disabled: false, ...fields };
}

/** Creates the user; when a racing request created the same email first, returns that user instead. */
export async function createOrFind(users: UserStore, user: User, identity?: ExternalIdentity): Promise<{ user: User; created: boolean }> {
  try {
    await users.create(user, identity);
    return { user, created: true };
  } catch (e) {
    if (!isAppError(e) || e.reason !== "USER_EXISTS") throw e;
    const existing = await users.findByEmail(user.email);
    if (!existing) throw e;
    return { user: existing, created: false };
  }
}

export function assertEnabled(user: User): void {
  if (user.disabled) throw new AppError("USER_DISABLED", MESSAGES.userDisabled);
}

/** A string field from a request: absent/empty → null. */
export const given = (value: string | undefined | null): string | null => (typeof value === "string" && value.length > 0 ? value : null);
