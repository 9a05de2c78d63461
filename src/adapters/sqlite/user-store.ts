import type { Database } from "bun:sqlite";
import { AppError, MESSAGES } from "../../domain/errors.ts";
import type { ExternalIdentity, User } from "../../domain/user.ts";
import type { UserPatch, UserStore } from "../../ports/user-store.ts";
import { run } from "./sqlite-errors.ts";

interface UserRow {
  id: string;
  email: string;
  password_hash: string | null;
  email_verified: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  disabled: number;
}

interface IdentityRow {
  provider: string;
  provider_user_id: string;
  user_id: string;
  created_at: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  emailVerified: r.email_verified === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastLoginAt: r.last_login_at,
  disabled: r.disabled === 1,
});

const toIdentity = (r: IdentityRow): ExternalIdentity => ({
  provider: r.provider,
  providerUserId: r.provider_user_id,
  userId: r.user_id,
  createdAt: r.created_at,
});

const has = (patch: UserPatch, key: keyof UserPatch): number => (patch[key] === undefined ? 0 : 1);

/**
 * UserStore on bun:sqlite. The database is borrowed: close() leaves it open (its owner,
 * createSqliteStores, closes it).
 */
export const createSqliteUserStore = (db: Database): UserStore => {
  const byId = db.query<UserRow, [string]>("SELECT * FROM users WHERE id = ?");
  const byEmail = db.query<UserRow, [string]>("SELECT * FROM users WHERE email = ?");
  const insertUser = db.query(
    `INSERT INTO users (id, email, password_hash, email_verified, created_at, updated_at, last_login_at, disabled)
     VALUES ($id, $email, $passwordHash, $emailVerified, $createdAt, $updatedAt, $lastLoginAt, $disabled)`,
  );
  const insertIdentity = db.query(
    `INSERT INTO external_identities (provider, provider_user_id, user_id, created_at)
     VALUES ($provider, $providerUserId, $userId, $createdAt)`,
  );
  const updateUser = db.query<UserRow, Record<string, string | number | null>>(
    `UPDATE users SET
       password_hash = CASE WHEN $setPasswordHash THEN $passwordHash ELSE password_hash END,
       email_verified = CASE WHEN $setEmailVerified THEN $emailVerified ELSE email_verified END,
       last_login_at = CASE WHEN $setLastLoginAt THEN $lastLoginAt ELSE last_login_at END,
       disabled = CASE WHEN $setDisabled THEN $disabled ELSE disabled END,
       updated_at = $at
     WHERE id = $id RETURNING *`,
  );
  const verify = db.query<unknown, [number, string]>(
    "UPDATE users SET email_verified = 1, password_hash = NULL, updated_at = ? WHERE id = ?",
  );
  const identity = db.query<IdentityRow, [string, string]>(
    "SELECT * FROM external_identities WHERE provider = ? AND provider_user_id = ?",
  );
  const identitiesOf = db.query<IdentityRow, [string]>(
    "SELECT * FROM external_identities WHERE user_id = ? ORDER BY created_at, rowid",
  );
  const ping = db.query("SELECT 1");
  const dropIdentities = db.query<unknown, [string]>("DELETE FROM external_identities WHERE user_id = ?");

  const addIdentity = (i: ExternalIdentity): void => {
    insertIdentity.run({
      provider: i.provider,
      providerUserId: i.providerUserId,
      userId: i.userId,
      createdAt: i.createdAt,
    });
  };

  const createTx = db.transaction((user: User, ident: ExternalIdentity | undefined) => {
    insertUser.run({
      id: user.id,
      email: user.email,
      passwordHash: user.passwordHash,
      emailVerified: user.emailVerified ? 1 : 0,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
      lastLoginAt: user.lastLoginAt,
      disabled: user.disabled ? 1 : 0,
    });
    if (ident) addIdentity(ident);
  });

  const markVerifiedTx = db.transaction((id: string, at: number) => {
    const row = byId.get(id);
    if (!row) return null;
    if (row.email_verified === 1) return { passwordRemoved: false, identitiesRemoved: 0 };
    verify.run(at, id);
    const identitiesRemoved = dropIdentities.run(id).changes;
    return { passwordRemoved: row.password_hash !== null, identitiesRemoved };
  });

  const linkTx = db.transaction((i: ExternalIdentity): "created" | "unchanged" => {
    const existing = identity.get(i.provider, i.providerUserId);
    if (existing) {
      if (existing.user_id === i.userId) return "unchanged";
      throw new AppError("OAUTH_ALREADY_LINKED", MESSAGES.alreadyLinked);
    }
    addIdentity(i);
    return "created";
  });

  return {
    findById: (id) =>
      run(() => {
        const row = byId.get(id);
        return row ? toUser(row) : null;
      }),
    findByEmail: (email) =>
      run(() => {
        const row = byEmail.get(email);
        return row ? toUser(row) : null;
      }),
    create: (user, ident) =>
      run(() => {
        if (ident && ident.userId !== user.id) throw new Error("identity.userId must equal user.id");
        createTx.immediate(user, ident);
      }),
    update: (id, patch, at) =>
      run(() => {
        const row = updateUser.get({
          id,
          at,
          setPasswordHash: has(patch, "passwordHash"),
          passwordHash: patch.passwordHash ?? null,
          setEmailVerified: has(patch, "emailVerified"),
          emailVerified: patch.emailVerified ? 1 : 0,
          setLastLoginAt: has(patch, "lastLoginAt"),
          lastLoginAt: patch.lastLoginAt ?? null,
          setDisabled: has(patch, "disabled"),
          disabled: patch.disabled ? 1 : 0,
        });
        return row ? toUser(row) : null;
      }),
    markEmailVerified: (id, at) => run(() => markVerifiedTx.immediate(id, at)),
    findIdentity: (provider, providerUserId) =>
      run(() => {
        const row = identity.get(provider, providerUserId);
        return row ? toIdentity(row) : null;
      }),
    listIdentities: (userId) => run(() => identitiesOf.all(userId).map(toIdentity)),
    linkIdentity: (i) => run(() => linkTx.immediate(i)),
    ping: () => run(() => void ping.get()),
    close: async () => {},
  };
};
