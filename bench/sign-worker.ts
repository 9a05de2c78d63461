// Ceiling probe (one Bun worker per core): signs JWTs with jose — the library the server uses — with
// the server's own private key, for a fixed time, and posts back how many it signed.
import { importPKCS8, SignJWT } from "jose";

declare const self: Worker;
self.onmessage = async (e: MessageEvent<{ pem: string; alg: string; ms: number; lanes: number }>) => {
  const { pem, alg, ms, lanes } = e.data;
  const key = await importPKCS8(pem, alg);
  const claims = { iss: "identra", sub: "00000000-0000-4000-8000-000000000000", uid: "00000000-0000-4000-8000-000000000000", typ: "refresh", jti: crypto.randomUUID(), iat: 1, nbf: 1, exp: 2 };
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        await new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT", kid: "k" }).sign(key);
        n++;
      }
    }),
  );
  postMessage(n);
};
