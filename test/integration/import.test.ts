// `identra import`: a database laid out as the existing (Go/GORM) Identra service lays it out is
// imported; its users log in with their old passwords and keep their GitHub links. Idempotent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import { MongoClient } from "mongodb";
import { decodeJwt } from "jose";
import { startFakeGitHub, type FakeGitHub, githubEnv } from "../support/fake-github.ts";
import { startMongo, type MongoHandle } from "../support/mongo-standin.ts";
import { restDriver } from "../support/rpc-driver.ts";
import { runCli, spawnServer } from "../support/spawn-server.ts";

const ALICE = { id: "11111111-1111-4111-8111-111111111111", email: "Alice@Example.com", password: "alice-old-password" };
const BOB = { id: "22222222-2222-4222-8222-222222222222", email: "bob@example.com", password: "bob-old-password", githubId: "4242" };
const GONE = { id: "33333333-3333-4333-8333-333333333333", email: "deleted@example.com" };

let github: FakeGitHub;
let legacyHashes: { alice: string; bob: string };
beforeAll(async () => {
  github = await startFakeGitHub();
  github.addUser({ id: 4242, login: "bob-gh", emails: [{ email: "bob-elsewhere@example.com", verified: true, primary: true }] });
  // The existing service hashed with Argon2id m=64 MiB, t=1, p=4.
  const legacy = { memoryCost: 65536, timeCost: 1, parallelism: 4, algorithm: 2 as never };
  legacyHashes = { alice: await hash(ALICE.password, legacy), bob: await hash(BOB.password, legacy) };
});
afterAll(() => github.stop());

function legacySqlite(): string {
  const path = join(mkdtempSync(join(tmpdir(), "identra-legacy-")), "identra.db");
  const db = new Database(path);
  // What GORM's AutoMigrate creates for the old userRecord / externalIdentityRecord.
  db.run("CREATE TABLE `users` (`id` varchar(36),`created_at` datetime,`updated_at` datetime,`deleted_at` datetime,`email` varchar(255),`hashed_password` text,`hash` text,`last_login_at` datetime,PRIMARY KEY (`id`))");
  db.run("CREATE UNIQUE INDEX `idx_users_email` ON `users`(`email`)");
  db.run("CREATE TABLE `external_identities` (`id` varchar(36),`user_id` varchar(36),`provider` varchar(50),`provider_user_id` varchar(255),`created_at` datetime,`updated_at` datetime,`deleted_at` datetime,PRIMARY KEY (`id`))");
  const at = "2025-03-01 10:20:30.123456789+00:00";
  const insertUser = db.prepare("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, NULL, ?)");
  insertUser.run(ALICE.id, at, at, null, ALICE.email, legacyHashes.alice, at);
  insertUser.run(BOB.id, at, at, null, BOB.email, legacyHashes.bob, null);
  insertUser.run(GONE.id, at, at, at, GONE.email, legacyHashes.alice, null);
  db.prepare("INSERT INTO external_identities VALUES (?, ?, 'github', ?, ?, ?, NULL)").run(crypto.randomUUID(), BOB.id, BOB.githubId, at, at);
  db.close();
  return path;
}

async function legacyMongo(mongo: MongoHandle): Promise<string> {
  const uri = mongo.uri.replace(/\/(\?|$)/, `/legacy_${mongo.database}$1`);
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db();
  const at = new Date("2025-03-01T10:20:30Z");
  await db.collection("users").insertMany([
    { _id: ALICE.id as never, created_at: at, updated_at: at, email: ALICE.email, hashed_password: legacyHashes.alice, last_login_at: at },
    { _id: BOB.id as never, created_at: at, updated_at: at, email: BOB.email, hashed_password: legacyHashes.bob },
  ]);
  await db.collection("external_identities").insertOne({ _id: crypto.randomUUID() as never, user_id: BOB.id, provider: "github", provider_user_id: BOB.githubId, created_at: at });
  await client.close();
  return uri;
}

const targetEnv = () => ({
  IDENTRA_PERSISTENCE_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "identra-target-")), "users.db"),
  IDENTRA_AUTH_PASSWORD_AUTO_REGISTER: "false",
  ...githubEnv(github),
});

async function expectImportedUsersWork(env: Record<string, string>) {
  const server = await spawnServer({ env });
  try {
    const d = restDriver(server.httpUrl);
    const alice = await d.call("LoginByPassword", { email: "alice@example.com", password: ALICE.password });
    if (!alice.ok) throw new Error(`alice: ${alice.message}`);
    expect(decodeJwt(alice.body.token.accessToken.token).sub).toBe(ALICE.id);
    expect(await d.call("LoginByPassword", { email: "alice@example.com", password: "wrong-password" })).toMatchObject({ ok: false, message: "invalid credentials" });
    const bob = await d.call("LoginByPassword", { email: BOB.email, password: BOB.password });
    expect(bob.ok && decodeJwt(bob.body.token.accessToken.token).sub).toBe(BOB.id);
    const redirect = "https://app.example.com/cb";
    const url = await d.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: redirect });
    if (!url.ok) throw new Error("url failed");
    const viaGithub = await d.call("LoginByOAuth", await github.authorize("bob-gh", url.body.state, redirect));
    if (!viaGithub.ok) throw new Error(`github: ${viaGithub.message}`);
    expect(decodeJwt(viaGithub.body.token.accessToken.token).sub).toBe(BOB.id);
    expect(viaGithub.body.email).toBe(BOB.email);
    // The soft-deleted legacy row was not imported.
    expect(await d.call("LoginByPassword", { email: GONE.email, password: ALICE.password })).toMatchObject({ ok: false, message: "invalid credentials" });
  } finally {
    await server.stop("SIGKILL");
  }
}

describe("identra import", () => {
  test("from the existing service's SQLite (GORM) database, idempotently", async () => {
    const from = legacySqlite();
    const env = targetEnv();
    const first = await runCli(["import", "--from", from], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("users created=2 unchanged=0 skipped=0; identities created=1 unchanged=0 skipped=0");
    const again = await runCli(["import", "--from", from], { env });
    expect(again.stdout).toContain("users created=0 unchanged=2 skipped=0; identities created=0 unchanged=1 skipped=0");
    await expectImportedUsersWork(env);
  });

  test("from the existing service's MongoDB collections", async () => {
    const mongo = await startMongo();
    try {
      const from = await legacyMongo(mongo);
      const env = targetEnv();
      const r = await runCli(["import", "--from", from], { env });
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("users created=2 unchanged=0 skipped=0; identities created=1 unchanged=0 skipped=0");
      await expectImportedUsersWork(env);
    } finally {
      await mongo.stop();
    }
  }, 120_000);

  test("without --from it explains its usage", async () => {
    const r = await runCli(["import"], { env: targetEnv() });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("usage: identra import --from");
  });
});
