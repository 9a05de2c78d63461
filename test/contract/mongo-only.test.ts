import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MongoClient, MongoServerError } from "mongodb";
import { createMongoStores } from "../../src/adapters/mongo/index.ts";
import type { MongoStores } from "../../src/adapters/mongo/index.ts";
import { freePort } from "../support/free-port.ts";
import { isRealMongo, startMongo, startMongoStandin, supportsTransactions } from "../support/mongo-standin.ts";
import type { MongoHandle } from "../support/mongo-standin.ts";
import { aFamily, aKey, aUser, anIdentity, expectAppError, settle } from "./builders.ts";

// MongoDB-specific behaviour beyond the shared contracts. Cases named "requires real MongoDB" need
// what the stand-in lacks (unique secondary indexes, transaction rollback) and are skipped unless
// IDENTRA_TEST_MONGO_URI points at a real replica set.

const realTransactions = isRealMongo && (await supportsTransactions());

let mongo: MongoHandle;
let admin: MongoClient;
const opened: { stores: MongoStores; database: string }[] = [];
beforeAll(async () => {
  mongo = await startMongo();
  admin = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 5_000 });
}, 130_000);
afterAll(async () => {
  for (const { stores, database } of opened) {
    await stores.close();
    await admin.db(database).dropDatabase().catch(() => {});
  }
  await admin?.close();
  await mongo?.stop();
});

let n = 0;
const open = async (database = `${mongo.database}_${++n}`, options = {}): Promise<MongoStores> => {
  const stores = await createMongoStores({ uri: mongo.uri, database }, { familyTtl: false, ...options });
  opened.push({ stores, database });
  return stores;
};

describe("mongo adapter", () => {
  test("startup creates the indexes, the TTL on expire_at included", async () => {
    const database = `${mongo.database}_${++n}`;
    await open(database, { familyTtl: true });
    const families = await admin.db(database).collection("refresh_families").indexes();
    expect(families.find((i) => i.name === "expire_at_ttl")).toMatchObject({ key: { expire_at: 1 }, expireAfterSeconds: 0 });
    expect(families.some((i) => i.name === "user_id")).toBe(true);
    const users = await admin.db(database).collection("users").indexes();
    expect(users.find((i) => i.name === "email_unique")).toMatchObject({ key: { email: 1 }, unique: true });
  });

  test("a failed create leaves no claim behind: the email and the identity stay usable", async () => {
    const { users } = await open();
    const owner = aUser();
    const ident = anIdentity(owner.id);
    await users.create(owner, ident);
    const newcomer = aUser();
    await expectAppError(users.create(newcomer, { ...ident, userId: newcomer.id }), "OAUTH_ALREADY_LINKED");
    await users.create(newcomer);
    expect((await users.findByEmail(newcomer.email))?.id).toBe(newcomer.id);
  });

  test("identities removed by markEmailVerified free their slots; a stale slot does not block a new link", async () => {
    const database = `${mongo.database}_${++n}`;
    const { users } = await open(database);
    const u = aUser({ emailVerified: false });
    await users.create(u);
    const squatter = anIdentity(u.id);
    await users.linkIdentity(squatter);
    expect(await users.markEmailVerified(u.id, 2_000)).toEqual({ passwordRemoved: true, identitiesRemoved: 1 });
    const own = anIdentity(u.id);
    expect(await users.linkIdentity(own)).toBe("created");
    const other = aUser();
    await users.create(other);
    expect(await users.linkIdentity({ ...squatter, userId: other.id })).toBe("created");
    // A slot left behind without its identity (a crash without transactions) is freed on the next link.
    const v = aUser();
    await users.create(v);
    await admin.db(database).collection("external_identity_slots").insertOne({
      _id: `${v.id}:github` as never, user_id: v.id, provider: "github", provider_user_id: "gone",
    });
    expect(await users.linkIdentity(anIdentity(v.id))).toBe("created");
    expect(await users.listIdentities(v.id)).toHaveLength(1);
  });

  test("two clients (two replicas) racing: one rotate wins of 100, one ACTIVE key of 8 candidates", async () => {
    const database = `${mongo.database}_${++n}`;
    const [a, b] = [await open(database), await open(database)];
    const f = aFamily();
    await a.families.create(f);
    const target = (i: number) => ({ jti: `j${i}`, accessJti: `a${i}`, issuedAt: i, expiresAt: 1_700_700_000_000 });
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).families.rotate(f.id, f.currentJti, target(i), 1_000 + i)),
    );
    expect(outcomes.filter((o) => o.kind === "rotated")).toHaveLength(1);
    const actives = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).keys.ensureActive("RS256", aKey())));
    expect(new Set(actives.map((k) => k.kid)).size).toBe(1);
    const list = await a.keys.list();
    expect(list.map((k) => k.kid)).toEqual([actives[0]?.kid ?? ""]);
  });

  test("concurrent registrations of one email across two clients: one wins", async () => {
    const database = `${mongo.database}_${++n}`;
    const [a, b] = [await open(database), await open(database)];
    const email = aUser().email;
    const { ok, failed } = await settle(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).users.create(aUser({ email }))));
    expect(ok).toHaveLength(1);
    for (const e of failed) expect((e as { reason?: string }).reason).toBe("USER_EXISTS");
  });
});

describe("mongo adapter: reachability", () => {
  test("an unreachable URI is a startup error naming MongoDB, within ~6 s", async () => {
    const port = await freePort();
    const started = performance.now();
    const attempt = createMongoStores({ uri: `mongodb://user:secret@127.0.0.1:${port}/?directConnection=true`, database: "x" });
    await expect(attempt).rejects.toThrow(`cannot reach MongoDB at mongodb://***@127.0.0.1:${port}/`);
    await attempt.catch((e: Error) => expect(e.message).not.toContain("secret"));
    expect(performance.now() - started).toBeLessThan(6_500);
  }, 15_000);

  test("the server going away → DEPENDENCY_UNAVAILABLE (no hang); back again → the driver recovers", async () => {
    const standin = await startMongoStandin();
    const stores = await createMongoStores({ uri: standin.uri, database: standin.database });
    try {
      const u = aUser();
      await stores.users.create(u);
      await standin.stop();
      const started = performance.now();
      const error = await expectAppError(stores.users.findById(u.id), "DEPENDENCY_UNAVAILABLE");
      expect(error.message).toBe("database is unavailable");
      await expectAppError(stores.families.rotate("f", "j", { jti: "x", accessJti: "y", issuedAt: 1, expiresAt: 2 }, 1), "DEPENDENCY_UNAVAILABLE");
      await expectAppError(stores.users.ping(), "DEPENDENCY_UNAVAILABLE");
      expect(performance.now() - started).toBeLessThan(20_000);
      const again = await startMongoStandin(standin.port);
      try {
        await stores.users.ping(); // in memory: the data is gone, the connection is back
        expect(await stores.users.findById(u.id)).toBeNull();
      } finally {
        await again.stop();
      }
    } finally {
      await stores.close();
      await standin.stop();
    }
  }, 60_000);
});

describe("mongo adapter: real MongoDB only", () => {
  test.skipIf(!isRealMongo)("requires real MongoDB: the unique index on users.email rejects a second document", async () => {
    const database = `${mongo.database}_${++n}`;
    await open(database);
    const users = admin.db(database).collection<{ _id: string; email: string }>("users");
    await users.insertOne({ _id: "u1", email: "dup@example.com" });
    const error = await users.insertOne({ _id: "u2", email: "dup@example.com" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
  });

  test.skipIf(!realTransactions)("requires real MongoDB (replica set): a create that fails inside a transaction is rolled back", async () => {
    const database = `${mongo.database}_${++n}`;
    const { users } = await open(database, { transactions: true });
    const owner = aUser();
    const ident = anIdentity(owner.id);
    await users.create(owner, ident);
    const newcomer = aUser();
    await expectAppError(users.create(newcomer, { ...ident, userId: newcomer.id }), "OAUTH_ALREADY_LINKED");
    // The email claim written before the failing identity insert is gone with the transaction.
    expect(await admin.db(database).collection("user_emails").findOne({ _id: newcomer.email as never })).toBeNull();
    await users.create(newcomer);
  });
});
