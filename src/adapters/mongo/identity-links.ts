import { AppError, MESSAGES } from "../../domain/errors.ts";
import type { ExternalIdentity } from "../../domain/user.ts";
import type { ClientSession } from "mongodb";
import type { WriteRunner } from "./connect.ts";
import { isDuplicateKey } from "./errors.ts";
import { identityId, slotId } from "./schema.ts";
import type { Collections, IdentityDoc, IdentitySlotDoc } from "./schema.ts";

const toIdentity = (d: IdentityDoc): ExternalIdentity => ({
  provider: d.provider,
  providerUserId: d.provider_user_id,
  userId: d.user_id,
  createdAt: d.created_at,
});

const alreadyLinked = (cause?: unknown): AppError =>
  new AppError("OAUTH_ALREADY_LINKED", MESSAGES.alreadyLinked, cause === undefined ? {} : { cause });

/**
 * External identities. Two `_id` claims make the two rules hold on any deployment:
 * `external_identities._id` = provider:providerUserId (an identity belongs to one user) and
 * `external_identity_slots._id` = userId:provider (a user has one identity per provider).
 */
export const createIdentityLinks = (c: Collections, runWrites: WriteRunner) => {
  const identityDoc = (i: ExternalIdentity): IdentityDoc => ({
    _id: identityId(i.provider, i.providerUserId),
    provider: i.provider,
    provider_user_id: i.providerUserId,
    user_id: i.userId,
    created_at: i.createdAt,
  });
  const slotDoc = (i: ExternalIdentity): IdentitySlotDoc => ({
    _id: slotId(i.userId, i.provider),
    user_id: i.userId,
    provider: i.provider,
    provider_user_id: i.providerUserId,
  });

  const find = async (provider: string, providerUserId: string): Promise<ExternalIdentity | null> => {
    const d = await c.identities.findOne({ _id: identityId(provider, providerUserId) });
    return d ? toIdentity(d) : null;
  };

  /** After a duplicate key: "unchanged" when this very link exists (or is being made), else the conflict. */
  const resolveDuplicate = async (i: ExternalIdentity, cause: unknown): Promise<"unchanged"> => {
    const existing = await find(i.provider, i.providerUserId);
    if (existing?.userId === i.userId) return "unchanged";
    if (!existing) {
      const slot = await c.slots.findOne({ _id: slotId(i.userId, i.provider) });
      if (slot?.provider_user_id === i.providerUserId) return "unchanged";
    }
    throw alreadyLinked(cause);
  };

  /**
   * A slot naming an identity that does not exist (left by a crash between the two deletes in
   * removeAll, or between the two inserts of a link without transactions) is stale: free it.
   * Returns whether it did.
   */
  const freeStaleSlot = async (i: ExternalIdentity): Promise<boolean> => {
    const slot = await c.slots.findOne({ _id: slotId(i.userId, i.provider) });
    if (!slot || slot.provider_user_id === i.providerUserId) return false;
    const held = await c.identities.findOne({ _id: identityId(slot.provider, slot.provider_user_id), user_id: i.userId });
    if (held) return false;
    return (await c.slots.deleteOne({ _id: slot._id, provider_user_id: slot.provider_user_id })).deletedCount === 1;
  };

  const link = async (i: ExternalIdentity, retried = false): Promise<"created" | "unchanged"> => {
    const existing = await find(i.provider, i.providerUserId);
    if (existing) {
      if (existing.userId === i.userId) return "unchanged";
      throw alreadyLinked();
    }
    let slotClaimed = false;
    try {
      await runWrites(
        async (session) => {
          await c.slots.insertOne(slotDoc(i), { session });
          slotClaimed = true;
          await c.identities.insertOne(identityDoc(i), { session });
        },
        async () => {
          if (slotClaimed) await c.slots.deleteOne({ _id: slotId(i.userId, i.provider), provider_user_id: i.providerUserId });
        },
      );
      return "created";
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      if (!retried && !slotClaimed && (await freeStaleSlot(i))) return link(i, true);
      return resolveDuplicate(i, error);
    }
  };

  /** Unlinks every identity of the user; returns how many. Identities first, then their slots. */
  const removeAll = async (userId: string, session: ClientSession | undefined): Promise<number> => {
    const removed = await c.identities.deleteMany({ user_id: userId }, { session });
    await c.slots.deleteMany({ user_id: userId }, { session });
    return removed.deletedCount;
  };

  const list = async (userId: string): Promise<ExternalIdentity[]> => {
    const docs = await c.identities.find({ user_id: userId }).sort({ created_at: 1, _id: 1 }).toArray();
    return docs.map(toIdentity);
  };

  return { identityDoc, slotDoc, find, link, list, removeAll };
};
