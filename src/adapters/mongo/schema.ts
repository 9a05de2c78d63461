import type { Collection, Db, Document } from "mongodb";
import { SIGNING_ALGORITHMS } from "../../domain/keys.ts";
import type { KeyState, SigningAlgorithm } from "../../domain/keys.ts";
import { insertUnlessTaken } from "./errors.ts";

// Document shapes. Timestamps are Unix milliseconds (numbers); the only Date is the refresh
// family's TTL field. No BSON Binary anywhere. Uniqueness that must hold on every deployment
// (sharded clusters, where a unique secondary index needs the shard key as its prefix, included)
// lives in `_id`s; the unique secondary indexes are a second line of defence where MongoDB allows them.

export interface UserDoc {
  _id: string;
  email: string;
  password_hash: string | null;
  email_verified: boolean;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  disabled: boolean;
}

/** `_id` = normalised email: claims the address for one user (the users.email unique index may be unavailable). */
export interface EmailClaimDoc {
  _id: string;
  user_id: string;
}

/** `_id` = identityId(provider, providerUserId). */
export interface IdentityDoc {
  _id: string;
  provider: string;
  provider_user_id: string;
  user_id: string;
  created_at: number;
}

/** `_id` = slotId(userId, provider): at most one identity per provider per user. */
export interface IdentitySlotDoc {
  _id: string;
  user_id: string;
  provider: string;
  provider_user_id: string;
}

/**
 * `_id` = kid. `state` is the key's own state when it is NOT the one its algorithm's pointer names
 * (PASSIVE or RETIRED); the pointer alone decides which key is ACTIVE.
 */
export interface KeyDoc {
  _id: string;
  alg: SigningAlgorithm;
  private_key_pem: string;
  state: Exclude<KeyState, "ACTIVE">;
  created_at: number;
  promote_at: number | null;
  activated_at: number | null;
  retired_at: number | null;
}

/** `_id` = pointerId(alg): names the ACTIVE key of an algorithm (kid null: none). */
export interface ActivePointerDoc {
  _id: string;
  kid: string | null;
  activated_at: number | null;
}

export interface FamilyDoc {
  _id: string;
  user_id: string;
  current_jti: string;
  current_access_jti: string;
  current_issued_at: number;
  previous_jti: string | null;
  rotated_at: number | null;
  revoked_at: number | null;
  created_at: number;
  expires_at: number;
  /** expires_at as a Date, for the TTL index. */
  expire_at: Date;
}

export interface Collections {
  users: Collection<UserDoc>;
  emails: Collection<EmailClaimDoc>;
  identities: Collection<IdentityDoc>;
  slots: Collection<IdentitySlotDoc>;
  keys: Collection<KeyDoc>;
  pointers: Collection<ActivePointerDoc>;
  families: Collection<FamilyDoc>;
}

export const collectionsOf = (db: Db): Collections => ({
  users: db.collection<UserDoc>("users"),
  emails: db.collection<EmailClaimDoc>("user_emails"),
  identities: db.collection<IdentityDoc>("external_identities"),
  slots: db.collection<IdentitySlotDoc>("external_identity_slots"),
  keys: db.collection<KeyDoc>("signing_keys"),
  pointers: db.collection<ActivePointerDoc>("signing_key_active"),
  families: db.collection<FamilyDoc>("refresh_families"),
});

// The provider is URI-encoded so the first ":" always separates it from the provider's own id.
export const identityId = (provider: string, providerUserId: string): string =>
  `${encodeURIComponent(provider)}:${providerUserId}`;
export const slotId = (userId: string, provider: string): string => `${userId}:${encodeURIComponent(provider)}`;
export const pointerId = (alg: string): string => `active:${alg}`;

export interface SchemaOptions {
  /** TTL index on refresh_families.expire_at (default true). */
  familyTtl?: boolean;
}

/** A unique index; where MongoDB refuses it (a sharded collection whose shard key is no prefix), a plain one. */
const uniqueOrPlain = async <T extends Document>(
  collection: Collection<T>,
  keys: Record<string, 1>,
  name: string,
): Promise<void> => {
  try {
    await collection.createIndex(keys, { unique: true, name });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // 67 CannotCreateIndex / 72 InvalidOptions: refused because of the shard key. 85/86: an index of
    // that name or keys exists with other options (created by an operator): keep theirs.
    if (code === 85 || code === 86) return;
    if (code !== 67 && code !== 72) throw error;
    await collection.createIndex(keys, { name: `${name}_plain` });
  }
};

/** Creates a collection up front (a transaction may not be able to create one implicitly). */
const ensureCollection = async (collection: Collection<Document>): Promise<void> => {
  try {
    await collection.db.createCollection(collection.collectionName);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 48) throw error; // NamespaceExists
  }
};

/** Creates the collections, indexes and per-algorithm ACTIVE pointers. Idempotent; every replica runs it at start. */
export const ensureSchema = async (c: Collections, options: SchemaOptions = {}): Promise<void> => {
  for (const collection of Object.values(c) as Collection<Document>[]) await ensureCollection(collection);
  await uniqueOrPlain(c.users, { email: 1 }, "email_unique");
  await uniqueOrPlain(c.identities, { user_id: 1, provider: 1 }, "user_provider_unique");
  await c.keys.createIndex({ created_at: 1 }, { name: "created_at" });
  await c.families.createIndex({ user_id: 1 }, { name: "user_id" });
  await c.families.createIndex({ expires_at: 1 }, { name: "expires_at" });
  if (options.familyTtl !== false) {
    await c.families.createIndex({ expire_at: 1 }, { name: "expire_at_ttl", expireAfterSeconds: 0 });
  }
  for (const alg of SIGNING_ALGORITHMS) {
    await insertUnlessTaken(() => c.pointers.insertOne({ _id: pointerId(alg), kid: null, activated_at: null }));
  }
};
