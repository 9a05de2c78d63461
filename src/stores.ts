// Picks the storage adapters from config. Kept apart from app.ts so CLI commands can open the
// stores without building the whole service.
import type { Config } from "./config/types.ts";
import { createSqliteStores } from "./adapters/sqlite/index.ts";
import type { KeyStore } from "./ports/key-store.ts";
import type { RefreshFamilyStore } from "./ports/refresh-family-store.ts";
import type { UserStore } from "./ports/user-store.ts";

export interface Stores {
  users: UserStore;
  keys: KeyStore;
  families: RefreshFamilyStore;
  close(): Promise<void>;
}

export async function openStores(config: Config): Promise<Stores> {
  if (config.persistence.type === "mongo") {
    const { createMongoStores } = await import("./adapters/mongo/index.ts");
    return createMongoStores(config.persistence.mongo);
  }
  return createSqliteStores(config.persistence.sqlite.path);
}
