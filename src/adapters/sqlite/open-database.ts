import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "./migrations.ts";

/**
 * Opens (creating when missing) the SQLite database at `path` (or ":memory:"), sets the pragmas
 * every connection needs and applies pending migrations. busy_timeout comes first so that the
 * journal-mode switch and the migration lock wait for a second process instead of failing; it is
 * then set to 0, as the stores wait for locks off the event loop (run() in sqlite-errors.ts).
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
    // From here on every statement runs through run() (sqlite-errors.ts), which waits for another
    // connection's lock asynchronously; a busy_timeout would block the event loop while it waits.
    if (!inMemory) db.run("PRAGMA busy_timeout = 0");
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
};
