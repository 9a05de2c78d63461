import { randomBytes } from "node:crypto";
import { hash, verify, type Algorithm } from "@node-rs/argon2";

// Algorithm is an ambient const enum (not importable as a value here); 2 = Argon2id.
const ARGON2ID = 2 as Algorithm;
import type { PasswordHasher } from "../../ports/system.ts";

export interface Argon2Params {
  /** KiB. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Argon2id via @node-rs/argon2: runs on libuv's thread pool (off the event loop), ~3.5× faster than
 * Bun.password at the same parameters, and verifies any PHC string (parameters read from the hash),
 * so hashes made by the existing service (m=65536,t=1,p=4) keep working.
 */
export function createArgon2Hasher(params: Argon2Params): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params };
  // PHC uses unpadded standard base64. Random salt and digest: no password maps to this digest
  // (short of a 2^-256 accident), and verifying still runs Argon2 at the configured cost.
  const b64 = (n: number) => randomBytes(n).toString("base64").replace(/=+$/, "");
  const unmatchable = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$${b64(16)}$${b64(32)}`;
  return {
    unmatchableHash: () => unmatchable,
    hash: (password) => hash(password, options),
    verify: async (phc, password) => {
      if (!phc.startsWith("$argon2")) return false;
      try {
        return await verify(phc, password);
      } catch {
        return false;
      }
    },
  };
}
