import type { Database } from "bun:sqlite";
import { AppError } from "../../domain/errors.ts";
import type { KeyState, SigningAlgorithm, SigningKeyRecord } from "../../domain/keys.ts";
import type { KeyStore } from "../../ports/key-store.ts";
import { run } from "./sqlite-errors.ts";

interface KeyRow {
  kid: string;
  alg: SigningAlgorithm;
  private_key_pem: string;
  state: KeyState;
  created_at: number;
  promote_at: number | null;
  activated_at: number | null;
  retired_at: number | null;
}

const toKey = (r: KeyRow): SigningKeyRecord => ({
  kid: r.kid,
  alg: r.alg,
  privateKeyPem: r.private_key_pem,
  state: r.state,
  createdAt: r.created_at,
  promoteAt: r.promote_at,
  activatedAt: r.activated_at,
  retiredAt: r.retired_at,
});

const notFound = (kid: string): AppError => new AppError("NOT_FOUND", `signing key ${kid} not found`);

/**
 * KeyStore on bun:sqlite. A partial unique index keeps at most one ACTIVE key per algorithm;
 * read-then-write sequences run under BEGIN IMMEDIATE so replicas sharing the file agree.
 */
export const createSqliteKeyStore = (db: Database): KeyStore => {
  const all = db.query<KeyRow, []>("SELECT * FROM signing_keys ORDER BY created_at, rowid");
  const byKid = db.query<KeyRow, [string]>("SELECT * FROM signing_keys WHERE kid = ?");
  const activeOf = db.query<KeyRow, [string]>("SELECT * FROM signing_keys WHERE alg = ? AND state = 'ACTIVE'");
  const insert = db.query(
    `INSERT INTO signing_keys (kid, alg, private_key_pem, state, created_at, promote_at, activated_at, retired_at)
     VALUES ($kid, $alg, $pem, $state, $createdAt, $promoteAt, $activatedAt, $retiredAt)
     ON CONFLICT (kid) DO NOTHING`,
  );
  const demoteActive = db.query<unknown, [string]>(
    "UPDATE signing_keys SET state = 'PASSIVE' WHERE alg = ? AND state = 'ACTIVE'",
  );
  const activate = db.query<unknown, [number, string]>(
    `UPDATE signing_keys SET state = 'ACTIVE', activated_at = ?, promote_at = NULL, retired_at = NULL
     WHERE kid = ?`,
  );
  const setState = db.query<unknown, Record<string, string | number>>(
    `UPDATE signing_keys SET state = $state,
       retired_at = CASE WHEN $state = 'RETIRED' THEN COALESCE(retired_at, $at) ELSE NULL END
     WHERE kid = $kid`,
  );

  const insertKey = (k: SigningKeyRecord): void => {
    insert.run({
      kid: k.kid,
      alg: k.alg,
      pem: k.privateKeyPem,
      state: k.state,
      createdAt: k.createdAt,
      promoteAt: k.promoteAt,
      activatedAt: k.activatedAt,
      retiredAt: k.retiredAt,
    });
  };

  const ensureTx = db.transaction((alg: SigningAlgorithm, candidate: SigningKeyRecord): SigningKeyRecord => {
    const active = activeOf.get(alg);
    if (active) return toKey(active);
    const activatedAt = candidate.activatedAt ?? candidate.createdAt;
    const existing = byKid.get(candidate.kid);
    if (existing) {
      // The candidate is already stored (e.g. a configured key that was demoted): make it sign again.
      if (existing.alg !== alg) throw new Error(`signing key ${candidate.kid} is not an ${alg} key`);
      activate.run(activatedAt, candidate.kid);
    } else {
      insertKey({ ...candidate, alg, state: "ACTIVE", activatedAt, promoteAt: null, retiredAt: null });
    }
    return toKey(byKid.get(candidate.kid) as KeyRow);
  });

  const promoteTx = db.transaction((kid: string, at: number) => {
    const key = byKid.get(kid);
    if (!key) throw notFound(kid);
    if (key.state === "ACTIVE") return;
    demoteActive.run(key.alg);
    activate.run(at, kid);
  });

  return {
    list: () => run(() => all.all().map(toKey)),
    ensureActive: (alg, candidate) => run(() => ensureTx.immediate(alg, candidate)),
    add: (key) => run(() => insertKey(key)),
    promote: (kid, at) => run(() => promoteTx.immediate(kid, at)),
    setState: (kid, state, at) =>
      run(() => {
        if (setState.run({ kid, state, at }).changes === 0) throw notFound(kid);
      }),
  };
};
