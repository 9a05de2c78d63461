import { expect, test } from "bun:test";
import { hash } from "@node-rs/argon2";
import { createArgon2Hasher } from "../../src/adapters/system/argon2-hasher.ts";

const hasher = createArgon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

test("hashes as Argon2id PHC with the configured parameters and verifies", async () => {
  const phc = await hasher.hash("correct horse");
  expect(phc).toStartWith("$argon2id$v=19$m=1024,t=1,p=1$");
  expect(await hasher.verify(phc, "correct horse")).toBe(true);
  expect(await hasher.verify(phc, "wrong horse")).toBe(false);
});

test("verifies hashes made with other parameters (the existing service's m=65536,t=1,p=4)", async () => {
  const legacy = await hash("legacy password", { memoryCost: 65536, timeCost: 1, parallelism: 4, algorithm: 2 as never });
  expect(legacy).toContain("m=65536,t=1,p=4");
  expect(await hasher.verify(legacy, "legacy password")).toBe(true);
});

test("malformed hashes do not verify and do not throw", async () => {
  for (const bad of ["", "plain", "$argon2id$v=19$m=1024", "$2b$10$abcdefghijklmnopqrstuv"]) expect(await hasher.verify(bad, "x")).toBe(false);
});

test("the unmatchable hash is well formed, carries the configured cost, and matches nothing", async () => {
  const phc = hasher.unmatchableHash();
  expect(phc).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  expect(hasher.unmatchableHash()).toBe(phc);
  for (const pw of ["", "password", "identra-dummy"]) expect(await hasher.verify(phc, pw)).toBe(false);
});
