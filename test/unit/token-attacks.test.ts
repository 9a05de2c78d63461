// The JWT attack table against the token service with a real key ring (contract §4).
import { beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync, createHmac } from "node:crypto";
import { SignJWT, base64url } from "jose";
import { createMemoryKeyStore } from "../../src/adapters/memory/index.ts";
import { createManualClock } from "../../src/adapters/system/clock.ts";
import { createLogger } from "../../src/adapters/system/logger.ts";
import { createKeyRing, type KeyRing } from "../../src/services/key-ring.ts";
import { deriveKid, generateKeyPem, loadKeyMaterial } from "../../src/services/key-material.ts";
import { createTokenService, TokenRejected, type TokenService } from "../../src/services/token-service.ts";

const clock = createManualClock(Date.UTC(2026, 5, 1));
const logger = createLogger({ level: "error", format: "json", now: () => 0, write: () => {} });
const store = createMemoryKeyStore();
let ring: KeyRing;
let tokens: TokenService;
const now = () => Math.floor(clock.now() / 1000);
const pairClaims = () => ({ userId: "u-1", familyId: "f-1", accessJti: crypto.randomUUID(), refreshJti: crypto.randomUUID(), issuedAt: now() });

beforeAll(async () => {
  ring = createKeyRing({ store, clock, logger, algorithm: "RS256", configuredPem: "" });
  await ring.init();
  tokens = createTokenService({ keyRing: ring, clock, issuer: "identra", audience: "", accessTtlMs: 900_000, refreshTtlMs: 604_800_000 });
});

const rejects = async (token: string, typ: "access" | "refresh" = "access") => {
  let error: unknown = null;
  try {
    await tokens.verify(token, typ);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TokenRejected);
};

const split = (t: string) => t.split(".") as [string, string, string];
const encode = (o: unknown) => base64url.encode(JSON.stringify(o));

describe("token attacks are rejected", () => {
  test("a valid access token verifies (control)", async () => {
    const pair = await tokens.issuePair(pairClaims());
    const claims = await tokens.verify(pair.accessToken.token, "access");
    expect(claims.uid).toBe("u-1");
  });

  test("alg: none", async () => {
    const [, payload] = split((await tokens.issuePair(pairClaims())).accessToken.token);
    await rejects(`${encode({ alg: "none", typ: "JWT", kid: ring.active().kid })}.${payload}.`);
  });

  test("HS256 signed with the public key as the secret", async () => {
    const [, payload] = split((await tokens.issuePair(pairClaims())).accessToken.token);
    const header = encode({ alg: "HS256", typ: "JWT", kid: ring.active().kid });
    const secret = JSON.stringify(ring.active().jwk);
    const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
    await rejects(`${header}.${payload}.${sig}`);
  });

  test("unknown kid, signed by a key the ring does not know", async () => {
    const pem = await generateKeyPem("RS256");
    const m = await loadKeyMaterial(pem, "RS256");
    const token = await new SignJWT({ iss: "identra", sub: "u-1", uid: "u-1", typ: "access", jti: "j", iat: now(), nbf: now(), exp: now() + 60 })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: m.kid })
      .sign(m.signingKey);
    await rejects(token);
    const relabelled = await new SignJWT({ iss: "identra", sub: "u-1", uid: "u-1", typ: "access", jti: "j", iat: now(), nbf: now(), exp: now() + 60 })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: ring.active().kid })
      .sign(m.signingKey);
    await rejects(relabelled);
  });

  test("tampered payload and tampered header", async () => {
    const [h, p, s] = split((await tokens.issuePair(pairClaims())).accessToken.token);
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
    await rejects(`${h}.${encode({ ...claims, uid: "someone-else", sub: "someone-else" })}.${s}`);
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(h)));
    await rejects(`${encode({ ...header, typ: "at+jwt" })}.${p}.${s}`);
  });

  test("expired, and nbf in the future", async () => {
    const old = await tokens.issuePair({ ...pairClaims(), issuedAt: now() - 3600 });
    await rejects(old.accessToken.token);
    const future = await tokens.issuePair({ ...pairClaims(), issuedAt: now() + 3600 });
    await rejects(future.accessToken.token);
  });

  test("wrong issuer and wrong audience", async () => {
    const other = createTokenService({ keyRing: ring, clock, issuer: "evil", audience: "", accessTtlMs: 900_000, refreshTtlMs: 604_800_000 });
    await rejects((await other.issuePair(pairClaims())).accessToken.token);
    const withAud = createTokenService({ keyRing: ring, clock, issuer: "identra", audience: "api://mine", accessTtlMs: 900_000, refreshTtlMs: 604_800_000 });
    const wrongAud = createTokenService({ keyRing: ring, clock, issuer: "identra", audience: "api://other", accessTtlMs: 900_000, refreshTtlMs: 604_800_000 });
    const token = (await wrongAud.issuePair(pairClaims())).accessToken.token;
    await expect(withAud.verify(token, "access")).rejects.toBeInstanceOf(TokenRejected);
    const good = (await withAud.issuePair(pairClaims())).accessToken.token;
    expect((await withAud.verify(good, "access")).aud).toBe("api://mine");
  });

  test("refresh used as access and access used as refresh", async () => {
    const pair = await tokens.issuePair(pairClaims());
    await rejects(pair.refreshToken.token, "access");
    await rejects(pair.accessToken.token, "refresh");
  });

  test("truncated, non-JWT and huge strings", async () => {
    const token = (await tokens.issuePair(pairClaims())).accessToken.token;
    for (const bad of [token.slice(0, -10), "", "a.b.c", "not a jwt", "....", token + "x".repeat(9000)]) await rejects(bad);
  });

  test("a token signed by a retired key", async () => {
    const before = await tokens.issuePair(pairClaims());
    const oldKid = ring.active().kid;
    const pem = await generateKeyPem("RS256");
    const m = await loadKeyMaterial(pem, "RS256");
    await store.add({ kid: m.kid, alg: "RS256", privateKeyPem: pem, state: "PASSIVE", createdAt: clock.now(), promoteAt: null, activatedAt: null, retiredAt: null });
    await store.promote(m.kid, clock.now());
    await ring.refresh();
    expect(ring.active().kid).toBe(m.kid);
    expect((await tokens.verify(before.accessToken.token, "access")).uid).toBe("u-1"); // PASSIVE still verifies
    await store.setState(oldKid, "RETIRED", clock.now());
    await ring.refresh();
    await rejects(before.accessToken.token);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([m.kid]);
  });
});

test("kid is base64url of the first 8 bytes of SHA-256 over the RSA modulus", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  const expected = new Bun.CryptoHasher("sha256").update(Buffer.from(jwk.n!, "base64url")).digest().subarray(0, 8);
  expect(deriveKid(jwk)).toBe(Buffer.from(expected).toString("base64url"));
  expect(deriveKid(jwk)).toHaveLength(11);
});

test("RS256 re-issue of the same claims gives the same strings", async () => {
  const c = pairClaims();
  const a = await tokens.issuePair(c);
  const b = await tokens.issuePair(c);
  expect(a).toEqual(b);
});
