import { afterAll, beforeAll } from "bun:test";
import { MongoClient } from "mongodb";
import { createMongoStores } from "../../src/adapters/mongo/index.ts";
import type { MongoStores } from "../../src/adapters/mongo/index.ts";
import { isRealMongo, startMongo } from "../support/mongo-standin.ts";
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
const fresh = async (): Promise<MongoStores> => {
  const database = `${mongo.database}_${++n}`;
  // The contracts use fixed timestamps from 2023: on a real server the TTL monitor would delete
  // those families mid-test, so the TTL index is left out here (mongo-only.test.ts checks it).
  const stores = await createMongoStores({ uri: mongo.uri, database }, { familyTtl: !isRealMongo });
  return {
    ...stores,
    close: async () => {
      await stores.close();
      await admin.db(database).dropDatabase();
    },
  };
};

runUserStoreContract("mongo", fresh);
runKeyStoreContract("mongo", fresh);
runRefreshFamilyStoreContract("mongo", fresh);
