// Signs and verifies Identra's JWTs (contract §4) with the key ring.
import { decodeProtectedHeader, jwtVerify } from "jose";
import type { TokenClaims, TokenType } from "../domain/claims.ts";
import type { Clock } from "../ports/system.ts";
import type { TokenPair } from "./api.ts";
import type { KeyRing } from "./key-ring.ts";
import type { KeyMaterial } from "./key-material.ts";

/** Tokens longer than this are refused before any parsing (a JWT of ours is well under 2 KB). */
const MAX_TOKEN_LENGTH = 8192;

export interface PairClaims {
  userId: string;
  familyId: string;
  accessJti: string;
  refreshJti: string;
  /** Unix seconds. */
  issuedAt: number;
}

export class TokenRejected extends Error {
  constructor(why: string) {
    super(why);
    this.name = "TokenRejected";
  }
}

export interface TokenService {
  /** Same inputs → same claims (and, with RS256, the same strings). */
  issuePair(claims: PairClaims): Promise<TokenPair>;
  /** Throws TokenRejected for anything that is not a valid token of the expected type. */
  verify(token: string, expected: TokenType): Promise<TokenClaims>;
}

const encoder = new TextEncoder();
const b64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

type SignAlgorithm = Parameters<typeof crypto.subtle.sign>[0];

/** WebCrypto parameters per JWS alg (as jose uses them). */
const SUBTLE_SIGN: Record<string, SignAlgorithm> = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
};

interface Signer {
  /** base64url of the protected header {alg, typ, kid}: the same for every token of this key. */
  header: string;
  algorithm: SignAlgorithm;
  key: CryptoKey;
}

/**
 * Per key, computed once: the encoded protected header and the WebCrypto parameters. Signing then
 * produces exactly what jose's SignJWT does (header and claims JSON in the same key order, base64url
 * without padding, the same WebCrypto call), without jose's per-call structuredClone, header
 * re-serialisation and key checks (done here once instead).
 */
const signers = new WeakMap<KeyMaterial, Signer>();
function signerFor(m: KeyMaterial): Signer {
  let s = signers.get(m);
  if (!s) {
    const algorithm = SUBTLE_SIGN[m.alg];
    if (!algorithm) throw new TypeError(`unsupported signing algorithm ${m.alg}`);
    const rsaBits = (m.signingKey.algorithm as { modulusLength?: number }).modulusLength ?? 0;
    if (m.alg === "RS256" && rsaBits < 2048) throw new TypeError("RS256 requires key modulusLength to be 2048 bits or larger");
    s = { header: b64url(JSON.stringify({ alg: m.alg, typ: "JWT", kid: m.kid })), algorithm, key: m.signingKey };
    signers.set(m, s);
  }
  return s;
}

/**
 * A compact JWS of `claims` with this key — the server's signing path, exported so the benchmark's
 * signing ceiling measures exactly this code (`bench/sign-worker.ts`).
 */
export async function signToken(m: KeyMaterial, claims: object): Promise<string> {
  const signer = signerFor(m);
  const input = `${signer.header}.${b64url(JSON.stringify(claims))}`;
  // WebCrypto signs on Bun's native thread pool, off the event loop (RS256 ≈ 1 ms of CPU each).
  const signature = await crypto.subtle.sign(signer.algorithm, signer.key, encoder.encode(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

export function createTokenService(deps: {
  keyRing: KeyRing;
  clock: Clock;
  issuer: string;
  audience: string;
  accessTtlMs: number;
  refreshTtlMs: number;
}): TokenService {
  const { keyRing, clock, issuer, audience } = deps;
  const accessTtl = Math.floor(deps.accessTtlMs / 1000);
  const refreshTtl = Math.floor(deps.refreshTtlMs / 1000);

  const sign = (claims: TokenClaims): Promise<string> => signToken(keyRing.active(), claims);

  function claimsFor(typ: TokenType, p: PairClaims, jti: string, ttl: number): TokenClaims {
    // Key order is fixed so that re-issuing the same pair gives the same bytes.
    const c: TokenClaims = { iss: issuer, sub: p.userId, uid: p.userId, typ, jti, iat: p.issuedAt, nbf: p.issuedAt, exp: p.issuedAt + ttl };
    if (audience) c.aud = audience;
    if (typ === "refresh") c.fid = p.familyId;
    return c;
  }

  return {
    async issuePair(p) {
      const access = claimsFor("access", p, p.accessJti, accessTtl);
      const refresh = claimsFor("refresh", p, p.refreshJti, refreshTtl);
      const [a, r] = await Promise.all([sign(access), sign(refresh)]);
      return { accessToken: { token: a, expiresAt: access.exp }, refreshToken: { token: r, expiresAt: refresh.exp }, tokenType: "Bearer" };
    },

    async verify(token, expected) {
      if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) throw new TokenRejected("malformed");
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        throw new TokenRejected("malformed");
      }
      const key = typeof kid === "string" ? keyRing.find(kid) : undefined;
      if (!key) throw new TokenRejected("unknown key");
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, key.verifyKey, {
          algorithms: [key.alg],
          issuer,
          ...(audience ? { audience } : {}),
          typ: "JWT",
          currentDate: new Date(clock.now()),
          requiredClaims: ["sub", "jti", "iat", "nbf", "exp"],
        }));
      } catch {
        throw new TokenRejected("verification failed");
      }
      if (payload.typ !== expected) throw new TokenRejected("wrong token type");
      if (typeof payload.uid !== "string" || payload.uid !== payload.sub || typeof payload.jti !== "string") {
        throw new TokenRejected("bad claims");
      }
      if (expected === "refresh" && typeof payload.fid !== "string") throw new TokenRejected("bad claims");
      return payload as unknown as TokenClaims;
    },
  };
}
