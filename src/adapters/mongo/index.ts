import type { KeyStore } from "../../ports/key-store.ts";
import type { RefreshFamilyStore } from "../../ports/refresh-family-store.ts";
import type { UserStore } from "../../ports/user-store.ts";
import { connectMongo, createWriteRunner, redactUri } from "./connect.ts";
import type { MongoConfig } from "./connect.ts";
import { createMongoKeyStore } from "./key-store.ts";
import { createMongoRefreshFamilyStore } from "./refresh-family-store.ts";
import { collectionsOf, ensureSchema } from "./schema.ts";
import { createMongoUserStore } from "./user-store.ts";

export { createMongoKeyStore } from "./key-store.ts";
export { createMongoRefreshFamilyStore } from "./refresh-family-store.ts";
export { createMongoUserStore } from "./user-store.ts";
export { redactUri } from "./connect.ts";
export type { MongoConfig } from "./connect.ts";

export interface MongoStores {
  users: UserStore;
  keys: KeyStore;
  families: RefreshFamilyStore;
  /** Closes the client (the stores' own close() leave it open). */
  close(): Promise<void>;
}

export interface MongoStoreOptions {
  /** TTL index on refresh families (default true; tests with fixed past timestamps on a real server turn it off). */
  familyTtl?: boolean;
  /** Overrides the detected transaction support (tests only). */
  transactions?: boolean;
}

/**
 * Connects to `uri`, creates the indexes, and builds the three stores on one client. Throws
 * "cannot reach MongoDB at <uri>: ..." within about 5 s when the deployment does not answer.
 */
export const createMongoStores = async (config: MongoConfig, options: MongoStoreOptions = {}): Promise<MongoStores> => {
  const connection = await connectMongo(config);
  const collections = collectionsOf(connection.db);
  try {
    await ensureSchema(collections, { familyTtl: options.familyTtl ?? true });
  } catch (error) {
    await connection.client.close().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot prepare MongoDB database ${config.database} at ${redactUri(config.uri)}: ${reason}`, { cause: error });
  }
  const runWrites = createWriteRunner({
    client: connection.client,
    transactions: options.transactions ?? connection.transactions,
  });
  let closed = false;
  return {
    users: createMongoUserStore(collections, runWrites),
    keys: createMongoKeyStore(collections),
    families: createMongoRefreshFamilyStore(collections),
    close: async () => {
      if (closed) return;
      closed = true;
      await connection.client.close();
    },
  };
};
