import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { Random } from "../../ports/system.ts";

/** The CSPRNG used in production. */
export const cryptoRandom: Random = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
  uuid: () => randomUUID(),
  digits: (length) => {
    let out = "";
    for (let i = 0; i < length; i++) out += String(randomInt(10));
    return out;
  },
};

/** Deterministic generator for tests (xorshift; NOT for production). */
export function createSeededRandom(seed = 1): Random {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const bytes = (length: number) => Uint8Array.from({ length }, () => Math.floor(next() * 256));
  return {
    bytes,
    uuid: () => {
      const b = bytes(16);
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = Buffer.from(b).toString("hex");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    digits: (length) => Array.from({ length }, () => String(Math.floor(next() * 10))).join(""),
  };
}
