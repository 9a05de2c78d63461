import type { RefreshFamily } from "../../domain/refresh-family.ts";
import type { RefreshFamilyStore } from "../../ports/refresh-family-store.ts";
import { guard } from "./errors.ts";
import type { Collections, FamilyDoc } from "./schema.ts";

const toFamily = (d: FamilyDoc): RefreshFamily => ({
  id: d._id,
  userId: d.user_id,
  currentJti: d.current_jti,
  currentAccessJti: d.current_access_jti,
  currentIssuedAt: d.current_issued_at,
  previousJti: d.previous_jti,
  rotatedAt: d.rotated_at,
  revokedAt: d.revoked_at,
  createdAt: d.created_at,
  expiresAt: d.expires_at,
});

const toDoc = (f: RefreshFamily): FamilyDoc => ({
  _id: f.id,
  user_id: f.userId,
  current_jti: f.currentJti,
  current_access_jti: f.currentAccessJti,
  current_issued_at: f.currentIssuedAt,
  previous_jti: f.previousJti,
  rotated_at: f.rotatedAt,
  revoked_at: f.revokedAt,
  created_at: f.createdAt,
  expires_at: f.expiresAt,
  expire_at: new Date(f.expiresAt),
});

/**
 * RefreshFamilyStore on MongoDB. `_id` = family id. rotate is ONE findOneAndUpdate whose filter is
 * the compare (current jti, not revoked): MongoDB applies it atomically to the document, so exactly
 * one of any number of racing callers, on any replica, matches. expire_at (a Date copy of
 * expires_at) carries the TTL index that lets MongoDB drop expired families by itself.
 */
export const createMongoRefreshFamilyStore = (c: Collections): RefreshFamilyStore => ({
  create: (f) => guard(async () => {
    await c.families.insertOne(toDoc(f));
  }),
  get: (id) => guard(async () => {
    const d = await c.families.findOne({ _id: id });
    return d ? toFamily(d) : null;
  }),
  rotate: (id, expectedJti, next, at) => guard(async () => {
    const won = await c.families.findOneAndUpdate(
      { _id: id, current_jti: expectedJti, revoked_at: null },
      {
        $set: {
          current_jti: next.jti,
          current_access_jti: next.accessJti,
          current_issued_at: next.issuedAt,
          expires_at: next.expiresAt,
          expire_at: new Date(next.expiresAt),
          previous_jti: expectedJti,
          rotated_at: at,
        },
      },
      { returnDocument: "after" },
    );
    if (won) return { kind: "rotated", family: toFamily(won) } as const;
    const fresh = await c.families.findOne({ _id: id });
    return { kind: "conflict", family: fresh ? toFamily(fresh) : null } as const;
  }),
  revoke: (id, at) => guard(async () => {
    const r = await c.families.updateOne({ _id: id, revoked_at: null }, { $set: { revoked_at: at } });
    return r.modifiedCount > 0;
  }),
  revokeAllForUser: (userId, at) => guard(async () => {
    const r = await c.families.updateMany({ user_id: userId, revoked_at: null }, { $set: { revoked_at: at } });
    return r.modifiedCount;
  }),
  deleteExpired: (before) => guard(async () => {
    const r = await c.families.deleteMany({ expires_at: { $lt: before } });
    return r.deletedCount;
  }),
});
