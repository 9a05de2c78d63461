import type { KeyStore } from "../../ports/key-store.ts";
import type { RefreshFamilyStore } from "../../ports/refresh-family-store.ts";
import type { UserStore } from "../../ports/user-store.ts";
import { createSqliteKeyStore } from "./key-store.ts";
import { openDatabase } from "./open-database.ts";
import { createSqliteRefreshFamilyStore } from "./refresh-family-store.ts";
import { createSqliteUserStore } from "./user-store.ts";

export { createSqliteKeyStore } from "./key-store.ts";
export { LATEST_SCHEMA_VERSION, MIGRATIONS, SchemaTooNewError, migrate, readSchemaVersion } from "./migrations.ts";
export { openDatabase } from "./open-database.ts";
export { createSqliteRefreshFamilyStore } from "./refresh-family-store.ts";
export { createSqliteUserStore } from "./user-store.ts";

export interface SqliteStores {
  users: UserStore;
  keys: KeyStore;
  families: RefreshFamilyStore;
  /** Closes the shared connection (the stores' own close() leave it open). */
  close(): Promise<void>;
}

/** Opens the database at `path` (":memory:" for a private in-memory one) and builds the three stores on it. */
export const createSqliteStores = (path: string): SqliteStores => {
  const db = openDatabase(path);
  let closed = false;
  return {
    users: createSqliteUserStore(db),
    keys: createSqliteKeyStore(db),
    families: createSqliteRefreshFamilyStore(db),
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
};
