// Turning PEM text into signing/verification keys, and generating new ones. jose does the JOSE
// side; node:crypto reads PKCS#1 PEM (which jose does not) and derives the public half.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { exportPKCS8, generateKeyPair, importJWK, importPKCS8 } from "jose";
import { AppError } from "../domain/errors.ts";
import type { PublicJwk, SigningAlgorithm } from "../domain/keys.ts";

export interface KeyMaterial {
  kid: string;
  alg: SigningAlgorithm;
  signingKey: CryptoKey;
  verifyKey: CryptoKey;
  jwk: PublicJwk;
}

const b64urlToBytes = (s: string) => Buffer.from(s, "base64url");

/**
 * kid = base64url (no padding) of the first 8 bytes of SHA-256 over the RSA modulus bytes
 * (contract §4), so a key keeps the kid the existing service gave it. EC/OKP keys: over x (and y).
 */
export function deriveKid(jwk: { n?: string; x?: string; y?: string }): string {
  const material = jwk.n
    ? b64urlToBytes(jwk.n)
    : Buffer.concat([b64urlToBytes(jwk.x ?? ""), b64urlToBytes(jwk.y ?? "")]);
  return createHash("sha256").update(material).digest().subarray(0, 8).toString("base64url");
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "RS256";
    case "ec":
      if (key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
      break;
    case "ed25519":
      return "EdDSA";
  }
  throw new AppError("INVALID_ARGUMENT", "unsupported private key type (want RSA, P-256 or Ed25519)");
}

/** Normalises any supported PEM (PKCS#1 or PKCS#8) to PKCS#8 and reports its algorithm. */
export function toPkcs8(pem: string): { pkcs8: string; alg: SigningAlgorithm } {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new AppError("INVALID_ARGUMENT", "not a readable PEM private key");
  }
  const alg = algorithmOf(key);
  if (alg === "RS256" && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new AppError("INVALID_ARGUMENT", "RSA keys must have at least 2048 bits");
  }
  return { pkcs8: key.export({ type: "pkcs8", format: "pem" }).toString(), alg };
}

export async function loadKeyMaterial(pkcs8Pem: string, alg: SigningAlgorithm): Promise<KeyMaterial> {
  const publicJwk = createPublicKey(createPrivateKey(pkcs8Pem)).export({ format: "jwk" }) as Record<string, string>;
  const kid = deriveKid(publicJwk);
  const jwk: PublicJwk = { kty: publicJwk.kty!, alg, use: "sig", kid };
  for (const field of ["n", "e", "crv", "x", "y"] as const) {
    if (publicJwk[field] !== undefined) jwk[field] = publicJwk[field];
  }
  const signingKey = (await importPKCS8(pkcs8Pem, alg)) as CryptoKey;
  const verifyKey = (await importJWK({ ...jwk }, alg)) as CryptoKey;
  return { kid, alg, signingKey, verifyKey, jwk };
}

export async function generateKeyPem(alg: SigningAlgorithm): Promise<string> {
  const options = alg === "RS256" ? { extractable: true, modulusLength: 2048 } : alg === "EdDSA" ? { extractable: true, crv: "Ed25519" } : { extractable: true };
  const { privateKey } = await generateKeyPair(alg, options);
  return exportPKCS8(privateKey);
}
