export const SIGNING_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export const KEY_STATES = ["ACTIVE", "PASSIVE", "RETIRED"] as const;
export type KeyState = (typeof KEY_STATES)[number];

/** A signing key as the stores keep it. */
export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  /** PKCS#8 PEM of the private key. */
  privateKeyPem: string;
  state: KeyState;
  /** Unix milliseconds. */
  createdAt: number;
  /** When a PASSIVE key is due to become ACTIVE (set by `keys rotate` without --now), else null. */
  promoteAt: number | null;
  activatedAt: number | null;
  retiredAt: number | null;
}

/** A public key as JWKS publishes it (contract JSONWebKey). */
export interface PublicJwk {
  kty: string;
  alg: string;
  use: string;
  kid: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}
