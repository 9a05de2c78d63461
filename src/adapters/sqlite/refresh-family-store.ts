import type { Database } from "bun:sqlite";
import type { RefreshFamily } from "../../domain/refresh-family.ts";
import type { RefreshFamilyStore } from "../../ports/refresh-family-store.ts";
import { run } from "./sqlite-errors.ts";

interface FamilyRow {
  id: string;
  user_id: string;
  current_jti: string;
  current_access_jti: string;
  current_issued_at: number;
  previous_jti: string | null;
  rotated_at: number | null;
  revoked_at: number | null;
  created_at: number;
  expires_at: number;
}

const toFamily = (r: FamilyRow): RefreshFamily => ({
  id: r.id,
  userId: r.user_id,
  currentJti: r.current_jti,
  currentAccessJti: r.current_access_jti,
  currentIssuedAt: r.current_issued_at,
  previousJti: r.previous_jti,
  rotatedAt: r.rotated_at,
  revokedAt: r.revoked_at,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/**
 * RefreshFamilyStore on bun:sqlite. Every write is one statement (autocommit), so no explicit
 * transaction is needed: rotate is a single compare-and-set UPDATE, which SQLite serialises across
 * connections and processes (run() makes the loser wait for the lock, then find the jti changed).
 */
export const createSqliteRefreshFamilyStore = (db: Database): RefreshFamilyStore => {
  const insert = db.query(
    `INSERT INTO refresh_families (id, user_id, current_jti, current_access_jti, current_issued_at,
       previous_jti, rotated_at, revoked_at, created_at, expires_at)
     VALUES ($id, $userId, $currentJti, $currentAccessJti, $currentIssuedAt,
       $previousJti, $rotatedAt, $revokedAt, $createdAt, $expiresAt)`,
  );
  const byId = db.query<FamilyRow, [string]>("SELECT * FROM refresh_families WHERE id = ?");
  const rotate = db.query<FamilyRow, Record<string, string | number>>(
    `UPDATE refresh_families SET
       current_jti = $jti, current_access_jti = $accessJti, current_issued_at = $issuedAt,
       expires_at = $expiresAt, previous_jti = current_jti, rotated_at = $at
     WHERE id = $id AND current_jti = $expectedJti AND revoked_at IS NULL
     RETURNING *`,
  );
  const revoke = db.query<unknown, [number, string]>(
    "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
  );
  const revokeForUser = db.query<unknown, [number, string]>(
    "UPDATE refresh_families SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
  );
  const deleteExpired = db.query<unknown, [number]>("DELETE FROM refresh_families WHERE expires_at < ?");

  return {
    create: (f) =>
      run(() => {
        insert.run({
          id: f.id,
          userId: f.userId,
          currentJti: f.currentJti,
          currentAccessJti: f.currentAccessJti,
          currentIssuedAt: f.currentIssuedAt,
          previousJti: f.previousJti,
          rotatedAt: f.rotatedAt,
          revokedAt: f.revokedAt,
          createdAt: f.createdAt,
          expiresAt: f.expiresAt,
        });
      }),
    get: (id) =>
      run(() => {
        const row = byId.get(id);
        return row ? toFamily(row) : null;
      }),
    rotate: (id, expectedJti, next, at) =>
      run(() => {
        const row = rotate.get({
          id,
          expectedJti,
          jti: next.jti,
          accessJti: next.accessJti,
          issuedAt: next.issuedAt,
          expiresAt: next.expiresAt,
          at,
        });
        if (row) return { kind: "rotated", family: toFamily(row) } as const;
        const fresh = byId.get(id);
        return { kind: "conflict", family: fresh ? toFamily(fresh) : null } as const;
      }),
    revoke: (id, at) => run(() => revoke.run(at, id).changes > 0),
    revokeAllForUser: (userId, at) => run(() => revokeForUser.run(at, userId).changes),
    deleteExpired: (before) => run(() => deleteExpired.run(before).changes),
  };
};
