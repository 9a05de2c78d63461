import { afterAll, beforeAll } from "bun:test";
import { MongoClient } from "mongodb";
import { createMongoStores } from "../../src/adapters/mongo/index.ts";
import type { MongoStores } from "../../src/adapters/mongo/index.ts";
import { isRealMongo, startMongo, supportsTransactions } from "../support/mongo-standin.ts";
import type { MongoHandle } from "../support/mongo-standin.ts";
import { runKeyStoreContract } from "./key-store.contract.ts";
import { runRefreshFamilyStoreContract } from "./refresh-family-store.contract.ts";
import { runUserStoreContract } from "./user-store.contract.ts";

// The shared port contracts against the MongoDB adapter: on the in-memory stand-in, or on a real
// MongoDB when IDENTRA_TEST_MONGO_URI is set. One server for the file, a fresh database per case.

let mongo: MongoHandle;
let admin: MongoClient;
beforeAll(async () => {
  mongo = await startMongo();
  admin = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 5_000 });
}, 130_000);
afterAll(async () => {
  await admin?.close();
  await mongo?.stop();
});

let n = 0;
const open = async (transactions?: boolean): Promise<MongoStores> => {
  const database = `${mongo.database}_${++n}`;
  // The contracts use fixed timestamps from 2023: on a real server the TTL monitor would delete
  // those families mid-test, so the TTL index is left out here (mongo-only.test.ts checks it).
  const options = transactions === undefined ? { familyTtl: !isRealMongo } : { familyTtl: !isRealMongo, transactions };
  const stores = await createMongoStores({ uri: mongo.uri, database }, options);
  return {
    ...stores,
    close: async () => {
      await stores.close();
      await admin.db(database).dropDatabase();
    },
  };
};

const fresh = (): Promise<MongoStores> => open();

// Multi-write user operations run as a transaction on a replica set / sharded cluster, and as
// ordered writes with clean-up on a standalone server. Both paths run the user contract wherever
// the server has transactions. The stand-in commits them but leaves an aborted one's earlier
// writes in place; no contract result depends on that (mongo-only.test.ts checks the rollback
// itself on a real replica set).
runUserStoreContract("mongo (ordered writes, no transactions)", () => open(false));
if (await supportsTransactions()) runUserStoreContract("mongo (multi-document transactions)", () => open(true));
runKeyStoreContract("mongo", fresh);
runRefreshFamilyStoreContract("mongo", fresh);
