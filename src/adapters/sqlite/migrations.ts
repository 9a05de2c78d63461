import type { Database } from "bun:sqlite";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: never edit a released migration, add the next version instead. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT UNIQUE NOT NULL,
        password_hash TEXT NULL,
        email_verified INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_login_at INTEGER NULL,
        disabled INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE external_identities (
        provider TEXT NOT NULL,
        provider_user_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        UNIQUE (provider, provider_user_id),
        UNIQUE (user_id, provider)
      );
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        private_key_pem TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'PASSIVE', 'RETIRED')),
        created_at INTEGER NOT NULL,
        promote_at INTEGER NULL,
        activated_at INTEGER NULL,
        retired_at INTEGER NULL
      );
      -- At most one ACTIVE key per algorithm, enforced by the database itself.
      CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE state = 'ACTIVE';
      CREATE TABLE refresh_families (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        current_jti TEXT NOT NULL,
        current_access_jti TEXT NOT NULL,
        current_issued_at INTEGER NOT NULL,
        previous_jti TEXT NULL,
        rotated_at INTEGER NULL,
        revoked_at INTEGER NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX refresh_families_user_id ON refresh_families (user_id);
      CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

export const readSchemaVersion = (db: Database): number => {
  const row = db.query<{ user_version: number }, []>("PRAGMA user_version").get();
  return row?.user_version ?? 0;
};

export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(
      `database schema version ${found} is newer than this identra binary supports (${known}); ` +
        "upgrade identra or point persistence.sqlite.path at another file",
    );
    this.name = "SchemaTooNewError";
  }
}

const refuseNewer = (db: Database): number => {
  const version = readSchemaVersion(db);
  if (version > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(version, LATEST_SCHEMA_VERSION);
  return version;
};

/**
 * Applies pending migrations under one BEGIN IMMEDIATE (the schema version is re-read after the
 * write lock is held, so two processes starting together migrate once). The version lives in
 * PRAGMA user_version, which is part of the same transaction.
 */
export const migrate = (db: Database, migrations: readonly Migration[] = MIGRATIONS): void => {
  if (refuseNewer(db) >= LATEST_SCHEMA_VERSION) return;
  const apply = db.transaction(() => {
    const current = refuseNewer(db);
    const pending = [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
    for (const m of pending) {
      db.run(m.sql);
      db.run(`PRAGMA user_version = ${Math.trunc(m.version)}`);
    }
  });
  apply.immediate();
};
