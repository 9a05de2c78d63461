import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LATEST_SCHEMA_VERSION,
  SchemaTooNewError,
  createSqliteStores,
  createSqliteUserStore,
  openDatabase,
  readSchemaVersion,
} from "../../src/adapters/sqlite/index.ts";
import { aFamily, aUser, expectAppError } from "./builders.ts";
import { runKeyStoreContract } from "./key-store.contract.ts";
import { runRefreshFamilyStoreContract } from "./refresh-family-store.contract.ts";
import { runUserStoreContract } from "./user-store.contract.ts";

const root = mkdtempSync(join(tmpdir(), "identra-sqlite-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh database file in a not-yet-existing subdirectory (openDatabase must create it). */
const freshPath = (): string => join(root, `case-${++n}`, "nested", "users.db");

runUserStoreContract("sqlite", async () => createSqliteStores(freshPath()));
runKeyStoreContract("sqlite", async () => createSqliteStores(freshPath()));
runRefreshFamilyStoreContract("sqlite", async () => createSqliteStores(freshPath()));

const FIXTURE = join(import.meta.dir, "fixtures", "sqlite-race.ts");

/** Spawns `count` bun processes on the race fixture (all start at the same instant); returns their JSON lines. */
const race = async <T>(count: number, path: string, mode: "rotate" | "ensure", ids: string[] = []): Promise<T[]> => {
  const startAt = String(Date.now() + 1_500);
  const procs = Array.from({ length: count }, (_, i) =>
    Bun.spawn([process.execPath, FIXTURE, path, mode, `p${i}`, startAt, ...ids], { stdout: "pipe", stderr: "pipe" }),
  );
  return Promise.all(
    procs.map(async (p) => {
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) throw new Error(`fixture exited ${code}: ${err}`);
      return JSON.parse(out.trim()) as T;
    }),
  );
};

describe("sqlite specifics", () => {
  test("opening sets WAL and migrates to the latest schema; reopening is a no-op", async () => {
    const path = freshPath();
    const db = openDatabase(path);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
    expect(readSchemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    db.close();
    const again = openDatabase(path);
    expect(readSchemaVersion(again)).toBe(LATEST_SCHEMA_VERSION);
    again.close();
  });

  test("a database with a newer schema version is refused with a clear error", () => {
    const path = freshPath();
    openDatabase(path).close();
    const raw = new Database(path);
    raw.run(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => createSqliteStores(path)).toThrow(SchemaTooNewError);
    expect(() => openDatabase(path)).toThrow(/newer than this identra binary supports/);
  });

  test("a write lock held past busy_timeout → DEPENDENCY_UNAVAILABLE", async () => {
    const path = freshPath();
    const db = openDatabase(path);
    db.run("PRAGMA busy_timeout = 50");
    const users = createSqliteUserStore(db);
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    try {
      const error = await expectAppError(users.create(aUser()), "DEPENDENCY_UNAVAILABLE");
      expect(error.message).toBe("database is busy");
    } finally {
      other.run("ROLLBACK");
      other.close();
      db.close();
    }
  });

  test("separate processes racing rotate on the same families: exactly one wins each", async () => {
    const path = freshPath();
    const stores = createSqliteStores(path);
    const ids = Array.from({ length: 40 }, (_, i) => `fam-${i}`);
    for (const id of ids) await stores.families.create(aFamily({ id, currentJti: `jti-${id}` }));
    const results = await race<{ label: string; won: string[] }>(4, path, "rotate", ids);
    const wins = results.flatMap((r) => r.won);
    expect(wins.sort()).toEqual([...ids].sort());
    for (const id of ids) {
      const f = await stores.families.get(id);
      const winner = results.find((r) => r.won.includes(id))?.label;
      expect(f?.currentJti).toBe(`${winner}-${id}`);
      expect(f?.previousJti).toBe(`jti-${id}`);
    }
    await stores.close();
  }, 30_000);

  test("separate processes starting at once on one file: ensureActive yields one ACTIVE key", async () => {
    const path = freshPath();
    openDatabase(path).close();
    const results = await race<{ label: string; kid: string }>(4, path, "ensure");
    expect(new Set(results.map((r) => r.kid)).size).toBe(1);
    const stores = createSqliteStores(path);
    const active = (await stores.keys.list()).filter((k) => k.state === "ACTIVE");
    expect(active.map((k) => k.kid)).toEqual([results[0]?.kid ?? ""]);
    await stores.close();
  }, 30_000);

  test("processes opening a brand-new file at once all migrate it safely", async () => {
    const path = freshPath();
    const results = await race<{ label: string; kid: string }>(4, path, "ensure");
    expect(new Set(results.map((r) => r.kid)).size).toBe(1);
  }, 30_000);
});
