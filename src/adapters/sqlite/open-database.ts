import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./migrations.ts";

/**
 * Opens (creating when missing) the SQLite database at `path` (or ":memory:"), sets the pragmas
 * every connection needs and applies pending migrations. busy_timeout comes first so that the
 * journal-mode switch and the migration lock wait for a second process instead of failing.
 */
export const openDatabase = (path: string): Database => {
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  try {
    db.run("PRAGMA busy_timeout = 5000");
    if (!inMemory) db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
};
