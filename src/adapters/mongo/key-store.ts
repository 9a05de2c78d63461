import { AppError } from "../../domain/errors.ts";
import type { SigningAlgorithm, SigningKeyRecord } from "../../domain/keys.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import { guard, insertUnlessTaken } from "./errors.ts";
import { pointerId } from "./schema.ts";
import type { ActivePointerDoc, Collections, KeyDoc } from "./schema.ts";

const notFound = (kid: string): AppError => new AppError("NOT_FOUND", `signing key ${kid} not found`);

/** The record as callers see it: the key its algorithm's pointer names is ACTIVE, whatever its own state says. */
const toKey = (d: KeyDoc, pointer: ActivePointerDoc | undefined): SigningKeyRecord =>
  pointer?.kid === d._id
    ? { kid: d._id, alg: d.alg, privateKeyPem: d.private_key_pem, state: "ACTIVE", createdAt: d.created_at,
        promoteAt: null, activatedAt: pointer.activated_at, retiredAt: null }
    : { kid: d._id, alg: d.alg, privateKeyPem: d.private_key_pem, state: d.state, createdAt: d.created_at,
        promoteAt: d.promote_at, activatedAt: d.activated_at, retiredAt: d.retired_at };

const MAX_ATTEMPTS = 20;

/**
 * KeyStore on MongoDB. Which key of an algorithm is ACTIVE is ONE field: `kid` of the pointer
 * document `signing_key_active/active:<alg>`, changed only by compare-and-set. So there is never a
 * moment with two ACTIVE keys of one algorithm, without transactions (which a standalone server
 * lacks), and ensureActive / promote / setState race safely across replicas. A key's own `state`
 * (PASSIVE or RETIRED) is what it falls back to once the pointer moves away from it.
 */
export const createMongoKeyStore = (c: Collections): KeyStore => {
  const pointerOf = async (alg: string): Promise<ActivePointerDoc> => {
    const found = await c.pointers.findOne({ _id: pointerId(alg) });
    if (found) return found;
    const fresh: ActivePointerDoc = { _id: pointerId(alg), kid: null, activated_at: null };
    await insertUnlessTaken(() => c.pointers.insertOne(fresh));
    return (await c.pointers.findOne({ _id: pointerId(alg) })) ?? fresh;
  };

  /** Moves the pointer from `from` to `to`; false when another writer moved it first. */
  const swing = async (alg: string, from: string | null, to: string | null, at: number | null): Promise<boolean> => {
    const result = await c.pointers.updateOne({ _id: pointerId(alg), kid: from }, { $set: { kid: to, activated_at: at } });
    return result.matchedCount === 1;
  };

  const record = async (kid: string): Promise<SigningKeyRecord | null> => {
    const d = await c.keys.findOne({ _id: kid });
    return d ? toKey(d, await pointerOf(d.alg)) : null;
  };

  const insert = (k: SigningKeyRecord, state: KeyDoc["state"]): Promise<boolean> =>
    insertUnlessTaken(() =>
      c.keys.insertOne({
        _id: k.kid, alg: k.alg, private_key_pem: k.privateKeyPem, state, created_at: k.createdAt,
        promote_at: k.promoteAt, activated_at: k.activatedAt, retired_at: k.retiredAt,
      }),
    );

  /** Records on the key itself what the pointer now says, for when the pointer later moves away. */
  const settleActivated = (kid: string, at: number) =>
    c.keys.updateOne({ _id: kid }, { $set: { state: "PASSIVE", activated_at: at, promote_at: null, retired_at: null } });

  const ensureActive = async (alg: SigningAlgorithm, candidate: SigningKeyRecord): Promise<SigningKeyRecord> => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const pointer = await pointerOf(alg);
      if (pointer.kid !== null) {
        const active = await record(pointer.kid);
        if (active?.state === "ACTIVE") return active;
        if (!active) await swing(alg, pointer.kid, null, null); // names a key that is gone: free it
        continue;
      }
      // Stored RETIRED until it wins, so a losing candidate is never published.
      const inserted = await insert({ ...candidate, alg }, "RETIRED");
      if (!inserted) {
        const existing = await c.keys.findOne({ _id: candidate.kid });
        if (existing && existing.alg !== alg) throw new Error(`signing key ${candidate.kid} is not an ${alg} key`);
      }
      const activatedAt = candidate.activatedAt ?? candidate.createdAt;
      if (await swing(alg, null, candidate.kid, activatedAt)) {
        await settleActivated(candidate.kid, activatedAt);
      } else if (inserted && (await pointerOf(alg)).kid !== candidate.kid) {
        // Lost to another candidate: drop ours (it was never published).
        await c.keys.deleteOne({ _id: candidate.kid, state: "RETIRED", alg });
      }
    }
    throw new Error(`ensureActive(${alg}) kept losing races after ${MAX_ATTEMPTS} attempts`);
  };

  const promote = async (kid: string, at: number): Promise<void> => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const key = await c.keys.findOne({ _id: kid });
      if (!key) throw notFound(kid);
      const pointer = await pointerOf(key.alg);
      if (pointer.kid === kid) return;
      // The outgoing key falls back to PASSIVE; neither write is visible before the pointer moves.
      if (pointer.kid !== null) await c.keys.updateOne({ _id: pointer.kid }, { $set: { state: "PASSIVE" } });
      await settleActivated(kid, at);
      if (await swing(key.alg, pointer.kid, kid, at)) return;
    }
    throw new Error(`promote(${kid}) kept losing races after ${MAX_ATTEMPTS} attempts`);
  };

  return {
    list: () => guard(async () => {
      // Pointers first: a key inserted meanwhile shows with its own (non-ACTIVE) state.
      const pointers = new Map((await c.pointers.find({}).toArray()).map((p) => [p._id, p]));
      const docs = await c.keys.find({}).sort({ created_at: 1, _id: 1 }).toArray();
      return docs.map((d) => toKey(d, pointers.get(pointerId(d.alg))));
    }),
    ensureActive: (alg, candidate) => guard(() => ensureActive(alg, candidate)),
    add: (key) => guard(async () => {
      if (!(await insert(key, key.state === "ACTIVE" ? "RETIRED" : key.state))) return;
      if (key.state !== "ACTIVE") return;
      const at = key.activatedAt ?? key.createdAt;
      if (await swing(key.alg, null, key.kid, at)) return void (await settleActivated(key.kid, at));
      await c.keys.deleteOne({ _id: key.kid });
      throw new Error(`an ACTIVE ${key.alg} key already exists; add the key as PASSIVE and promote it`);
    }),
    promote: (kid, at) => guard(() => promote(kid, at)),
    setState: (kid, state, at) => guard(async () => {
      const key = await c.keys.findOne({ _id: kid });
      if (!key) throw notFound(kid);
      if (state === "RETIRED") await c.keys.updateOne({ _id: kid, retired_at: null }, { $set: { retired_at: at } });
      const retired = state === "RETIRED" ? {} : { retired_at: null };
      await c.keys.updateOne({ _id: kid }, { $set: { state, ...retired } });
      await swing(key.alg, kid, null, null); // demotes it when it was the ACTIVE one
    }),
  };
};
