import { AppError, MESSAGES } from "../../domain/errors.ts";
import type { ExternalIdentity, User } from "../../domain/user.ts";
import type { UserStore } from "../../ports/user-store.ts";
import type { WriteRunner } from "./connect.ts";
import { guard, isDuplicateKey } from "./errors.ts";
import { createIdentityLinks } from "./identity-links.ts";
import { identityId, slotId } from "./schema.ts";
import type { Collections, UserDoc } from "./schema.ts";

const toUser = (d: UserDoc): User => ({
  id: d._id,
  email: d.email,
  passwordHash: d.password_hash,
  emailVerified: d.email_verified,
  createdAt: d.created_at,
  updatedAt: d.updated_at,
  lastLoginAt: d.last_login_at,
  disabled: d.disabled,
});

const toDoc = (u: User): UserDoc => ({
  _id: u.id,
  email: u.email,
  password_hash: u.passwordHash,
  email_verified: u.emailVerified,
  created_at: u.createdAt,
  updated_at: u.updatedAt,
  last_login_at: u.lastLoginAt,
  disabled: u.disabled,
});

const userExists = (cause: unknown): AppError => new AppError("USER_EXISTS", MESSAGES.userExists, { cause });
const alreadyLinked = (cause?: unknown): AppError =>
  new AppError("OAUTH_ALREADY_LINKED", MESSAGES.alreadyLinked, cause === undefined ? {} : { cause });

/** Runs one write; a duplicate key becomes `onDuplicate(error)`. */
const claim = async (write: () => Promise<unknown>, onDuplicate: (cause: unknown) => AppError): Promise<void> => {
  try {
    await write();
  } catch (error) {
    throw isDuplicateKey(error) ? onDuplicate(error) : error;
  }
};

/**
 * UserStore on MongoDB. `users._id` = user id. The email is claimed in `user_emails` (`_id` = the
 * normalised address) before the user is written, in one transaction where the deployment has
 * them, else in that order with clean-up on failure; the unique index on users.email backs it up
 * where MongoDB allows one. Identities: see identity-links.ts.
 */
export const createMongoUserStore = (c: Collections, runWrites: WriteRunner): UserStore => {
  const links = createIdentityLinks(c, runWrites);
  return {
    findById: (id) => guard(async () => {
      const d = await c.users.findOne({ _id: id });
      return d ? toUser(d) : null;
    }),
    findByEmail: (email) => guard(async () => {
      const d = await c.users.findOne({ email });
      return d ? toUser(d) : null;
    }),
    create: (user, identity) => guard(async () => {
      if (identity && identity.userId !== user.id) throw new Error("identity.userId must equal user.id");
      await runWrites(
        async (session) => {
          await claim(() => c.emails.insertOne({ _id: user.email, user_id: user.id }, { session }), userExists);
          if (identity) {
            await claim(() => c.identities.insertOne(links.identityDoc(identity), { session }), alreadyLinked);
            await claim(() => c.slots.insertOne(links.slotDoc(identity), { session }), alreadyLinked);
          }
          await claim(() => c.users.insertOne(toDoc(user), { session }), userExists);
        },
        async () => {
          // Only what this call wrote: each document names this user.
          await c.users.deleteOne({ _id: user.id, email: user.email, created_at: user.createdAt });
          if (identity) {
            await c.slots.deleteOne({ _id: slotId(user.id, identity.provider), user_id: user.id });
            await c.identities.deleteOne({ _id: identityId(identity.provider, identity.providerUserId), user_id: user.id });
          }
          await c.emails.deleteOne({ _id: user.email, user_id: user.id });
        },
      );
    }),
    update: (id, patch, at) => guard(async () => {
      const set: Partial<UserDoc> = { updated_at: at };
      if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
      if (patch.emailVerified !== undefined) set.email_verified = patch.emailVerified;
      if (patch.lastLoginAt !== undefined) set.last_login_at = patch.lastLoginAt;
      if (patch.disabled !== undefined) set.disabled = patch.disabled;
      const d = await c.users.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: "after" });
      return d ? toUser(d) : null;
    }),
    markEmailVerified: (id, at) => guard(() =>
      // Identities go before the flag flips: stopping in between (no transaction) leaves an
      // unverified account that a retry finishes, never a verified one that kept a squatter's link.
      runWrites(async (session) => {
        const user = await c.users.findOne({ _id: id }, { session });
        if (!user) return null;
        if (user.email_verified) return { passwordRemoved: false, identitiesRemoved: 0 };
        const identitiesRemoved = await links.removeAll(id, session);
        // Conditional: of racing calls, only the one that flips the flag reports the password.
        const before = await c.users.findOneAndUpdate(
          { _id: id, email_verified: false },
          { $set: { email_verified: true, password_hash: null, updated_at: at } },
          { returnDocument: "before", session },
        );
        return { passwordRemoved: before !== null && before.password_hash !== null, identitiesRemoved };
      }, async () => {}),
    ),
    findIdentity: (provider, providerUserId) => guard(() => links.find(provider, providerUserId)),
    listIdentities: (userId) => guard(() => links.list(userId)),
    linkIdentity: (identity: ExternalIdentity) => guard(() => links.link(identity)),
    ping: () => guard(async () => {
      await c.users.db.command({ ping: 1 });
    }),
    close: async () => {},
  };
};
