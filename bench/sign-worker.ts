// Ceiling probe (one Bun worker per core): signs JWTs with the server's own signing function
// (`signToken` in src/services/token-service.ts: WebCrypto, as the server calls it) and the server's
// own private key, for a fixed time, and posts back how many it signed.
import type { SigningAlgorithm } from "../src/domain/keys.ts";
import { loadKeyMaterial } from "../src/services/key-material.ts";
import { signToken } from "../src/services/token-service.ts";

declare const self: Worker;
self.onmessage = async (e: MessageEvent<{ pem: string; alg: SigningAlgorithm; ms: number; lanes: number }>) => {
  const { pem, alg, ms, lanes } = e.data;
  const key = await loadKeyMaterial(pem, alg);
  const claims = { iss: "identra", sub: "00000000-0000-4000-8000-000000000000", uid: "00000000-0000-4000-8000-000000000000", typ: "refresh", jti: crypto.randomUUID(), iat: 1, nbf: 1, exp: 2 };
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        await signToken(key, claims);
        n++;
      }
    }),
  );
  postMessage(n);
};
