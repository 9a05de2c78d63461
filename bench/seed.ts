// Fills an Identra SQLite store with N users (password users, one shared Argon2id hash) and one live
// refresh family per user, by bulk inserts in large transactions on the real schema (the database
// is opened through the adapter's openDatabase, so migrations run exactly as in the server).
//
//   bun bench/seed.ts --db /tmp/x/users.db --users 1000000 [--prefix u] [--families 1]
//
// Users are `<prefix><7-digit index>@bench.test` with the password SEED_PASSWORD.
import { hash } from "@node-rs/argon2";
import { randomUUID } from "node:crypto";
import { openDatabase } from "../src/adapters/sqlite/open-database.ts";
import { DEFAULT_ARGON2, SEED_PASSWORD, seedEmail } from "./lib.ts";

export interface SeedOptions {
  db: string;
  users: number;
  prefix?: string;
  /** Refresh families per user (default 1). */
  families?: number;
  /** A PHC string to reuse; computed once at the default parameters when absent. */
  passwordHash?: string;
  log?: (line: string) => void;
}

export async function seed(opts: SeedOptions): Promise<{ users: number; families: number; seconds: number }> {
  const started = performance.now();
  const prefix = opts.prefix ?? "u";
  const perUser = opts.families ?? 1;
  const phc = opts.passwordHash ?? (await hash(SEED_PASSWORD, { algorithm: 2, ...DEFAULT_ARGON2 }));
  const db = openDatabase(opts.db);
  // This connection only: bulk-load settings (the server's own connection uses its normal pragmas).
  db.run("PRAGMA synchronous = OFF");
  db.run("PRAGMA cache_size = -262144"); // 256 MiB
  db.run("PRAGMA temp_store = MEMORY");
  const insertUser = db.prepare(
    `INSERT INTO users (id, email, password_hash, email_verified, created_at, updated_at, last_login_at, disabled)
     VALUES (?, ?, ?, 0, ?, ?, NULL, 0)`,
  );
  const insertFamily = db.prepare(
    `INSERT INTO refresh_families (id, user_id, current_jti, current_access_jti, current_issued_at,
       previous_jti, rotated_at, revoked_at, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)`,
  );
  const now = Date.now();
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt * 1000 + 7 * 24 * 3600 * 1000;
  const BATCH = 50_000;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = randomUUID();
      insertUser.run(id, seedEmail(prefix, i), phc, now, now);
      for (let f = 0; f < perUser; f++) insertFamily.run(randomUUID(), id, randomUUID(), randomUUID(), issuedAt, now, expiresAt);
    }
  });
  for (let from = 0; from < opts.users; from += BATCH) {
    batch.immediate(from, Math.min(opts.users, from + BATCH));
    if (opts.users >= 200_000 && (from / BATCH) % 4 === 3) opts.log?.(`seed: ${Math.min(opts.users, from + BATCH)} users`);
  }
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.run("ANALYZE");
  db.close();
  return { users: opts.users, families: opts.users * perUser, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dbPath = flag("db");
  const users = Number(flag("users") ?? "1000");
  if (!dbPath || !Number.isInteger(users) || users < 0) {
    process.stderr.write("usage: bun bench/seed.ts --db <path> --users <n> [--prefix u] [--families 1]\n");
    process.exit(2);
  }
  const r = await seed({ db: dbPath, users, prefix: flag("prefix"), families: Number(flag("families") ?? "1"), log: (l) => process.stderr.write(l + "\n") });
  process.stdout.write(JSON.stringify({ figure: "seed", ...r, rows_per_s: Math.round((r.users + r.families) / r.seconds) }) + "\n");
}
