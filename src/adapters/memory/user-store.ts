import { AppError, MESSAGES } from "../../domain/errors.ts";
import type { ExternalIdentity, User } from "../../domain/user.ts";
import type { UserStore } from "../../ports/user-store.ts";

const identityKey = (provider: string, providerUserId: string): string => `${provider}\u0000${providerUserId}`;

const alreadyLinked = (): AppError => new AppError("OAUTH_ALREADY_LINKED", MESSAGES.alreadyLinked);

/**
 * UserStore in process memory (tests, development). Every method does its checks and writes
 * without awaiting in between, so each one is atomic on the single JS thread. Records are copied
 * in and out so callers cannot change stored state by mutating what they hold.
 */
export const createMemoryUserStore = (): UserStore => {
  const users = new Map<string, User>();
  const idByEmail = new Map<string, string>();
  const identities = new Map<string, ExternalIdentity>();

  const userIdentityOf = (userId: string, provider: string): ExternalIdentity | undefined =>
    [...identities.values()].find((i) => i.userId === userId && i.provider === provider);

  /** Throws when `i` cannot be linked; returns true when this exact link already exists. */
  const checkLink = (i: ExternalIdentity): boolean => {
    const existing = identities.get(identityKey(i.provider, i.providerUserId));
    if (existing) {
      if (existing.userId === i.userId) return true;
      throw alreadyLinked();
    }
    if (userIdentityOf(i.userId, i.provider)) throw alreadyLinked();
    return false;
  };

  const store = (i: ExternalIdentity): void => {
    identities.set(identityKey(i.provider, i.providerUserId), { ...i });
  };

  return {
    findById: async (id) => {
      const u = users.get(id);
      return u ? { ...u } : null;
    },
    findByEmail: async (email) => {
      const id = idByEmail.get(email);
      const u = id === undefined ? undefined : users.get(id);
      return u ? { ...u } : null;
    },
    create: async (user, identity) => {
      if (identity && identity.userId !== user.id) throw new Error("identity.userId must equal user.id");
      if (users.has(user.id) || idByEmail.has(user.email)) throw new AppError("USER_EXISTS", MESSAGES.userExists);
      if (identity && identities.has(identityKey(identity.provider, identity.providerUserId))) throw alreadyLinked();
      users.set(user.id, { ...user });
      idByEmail.set(user.email, user.id);
      if (identity) store(identity);
    },
    update: async (id, patch, at) => {
      const u = users.get(id);
      if (!u) return null;
      const next: User = { ...u, updatedAt: at };
      if (patch.passwordHash !== undefined) next.passwordHash = patch.passwordHash;
      if (patch.emailVerified !== undefined) next.emailVerified = patch.emailVerified;
      if (patch.lastLoginAt !== undefined) next.lastLoginAt = patch.lastLoginAt;
      if (patch.disabled !== undefined) next.disabled = patch.disabled;
      users.set(id, next);
      return { ...next };
    },
    markEmailVerified: async (id, at) => {
      const u = users.get(id);
      if (!u) return null;
      if (u.emailVerified) return { passwordRemoved: false, identitiesRemoved: 0 };
      users.set(id, { ...u, emailVerified: true, passwordHash: null, updatedAt: at });
      let identitiesRemoved = 0;
      for (const [key, i] of identities) {
        if (i.userId === id) {
          identities.delete(key);
          identitiesRemoved++;
        }
      }
      return { passwordRemoved: u.passwordHash !== null, identitiesRemoved };
    },
    findIdentity: async (provider, providerUserId) => {
      const i = identities.get(identityKey(provider, providerUserId));
      return i ? { ...i } : null;
    },
    listIdentities: async (userId) =>
      [...identities.values()].filter((i) => i.userId === userId).map((i) => ({ ...i })),
    linkIdentity: async (identity) => {
      if (checkLink(identity)) return "unchanged";
      if (!users.has(identity.userId)) throw new AppError("NOT_FOUND", "user not found");
      store(identity);
      return "created";
    },
    ping: async () => {},
    close: async () => {},
  };
};
