// Reads users and external identities as the existing (Go/GORM) Identra service stores them:
// SQLite tables `users` / `external_identities`, or MongoDB collections of the same names.
// Field names differ between that service's versions, so each is read under all its spellings.
import { Database } from "bun:sqlite";
import { MongoClient } from "mongodb";

export interface LegacyUser {
  id: string;
  email: string;
  passwordHash: string | null;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  githubId: string | null;
}

export interface LegacyIdentity {
  userId: string;
  provider: string;
  providerUserId: string;
  createdAt: number;
}

export interface LegacyData {
  users: LegacyUser[];
  identities: LegacyIdentity[];
}

const pick = (row: Record<string, unknown>, ...names: string[]): unknown => {
  for (const n of names) if (row[n] !== undefined && row[n] !== null) return row[n];
  return null;
};

/** GORM writes SQLite times as "2006-01-02 15:04:05.999999999-07:00"; Mongo gives Dates. */
export function toMillis(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value < 1e12 ? value * 1000 : value;
  const text = String(value).trim().replace(" ", "T").replace(/(\.\d{3})\d+/, "$1");
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

const str = (v: unknown): string | null => (v === null || v === undefined || v === "" ? null : String(v));

function toUser(row: Record<string, unknown>): LegacyUser | null {
  if (pick(row, "deleted_at", "deletedat") !== null) return null; // soft-deleted by GORM
  const id = str(pick(row, "_id", "id"));
  const email = str(pick(row, "email"));
  if (!id || !email) return null;
  const createdAt = toMillis(pick(row, "created_at", "createdat")) ?? 0;
  return {
    id,
    email,
    passwordHash: str(pick(row, "hashed_password", "hashedpassword", "password_hash")),
    createdAt,
    updatedAt: toMillis(pick(row, "updated_at", "updatedat")) ?? createdAt,
    lastLoginAt: toMillis(pick(row, "last_login_at", "lastloginat")),
    githubId: str(pick(row, "github_id", "githubid")),
  };
}

function toIdentity(row: Record<string, unknown>): LegacyIdentity | null {
  if (pick(row, "deleted_at", "deletedat") !== null) return null;
  const userId = str(pick(row, "user_id", "userid"));
  const provider = str(pick(row, "provider"));
  const providerUserId = str(pick(row, "provider_user_id", "provideruserid"));
  if (!userId || !provider || !providerUserId) return null;
  return { userId, provider, providerUserId, createdAt: toMillis(pick(row, "created_at", "createdat")) ?? 0 };
}

function readSqlite(path: string): LegacyData {
  const db = new Database(path, { readonly: true });
  try {
    const tables = new Set((db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (!tables.has("users")) throw new Error(`${path} has no users table`);
    const users = (db.query("SELECT * FROM users").all() as Record<string, unknown>[]).map(toUser).filter((u) => u !== null);
    const identities = tables.has("external_identities")
      ? (db.query("SELECT * FROM external_identities").all() as Record<string, unknown>[]).map(toIdentity).filter((i) => i !== null)
      : [];
    return { users, identities };
  } finally {
    db.close();
  }
}

async function readMongo(uri: string): Promise<LegacyData> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const db = client.db(); // the database named in the URI
    const users = (await db.collection("users").find({}).toArray()).map((d) => toUser(d as Record<string, unknown>)).filter((u) => u !== null);
    const identities = (await db.collection("external_identities").find({}).toArray()).map((d) => toIdentity(d as Record<string, unknown>)).filter((i) => i !== null);
    return { users, identities };
  } finally {
    await client.close();
  }
}

export function readLegacy(from: string): Promise<LegacyData> {
  return /^mongodb(\+srv)?:\/\//.test(from) ? readMongo(from) : Promise.resolve(readSqlite(from));
}
