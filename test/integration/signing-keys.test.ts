// auth.signing_algorithm (RS256 | ES256 | EdDSA) and auth.rsa_private_key (PKCS#1 or PKCS#8):
// the JWKS publishes the matching fields and tokens verify with any JOSE library by kid.
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { deriveKid } from "../../src/services/key-material.ts";
import { startTestServer } from "../support/identra-server.ts";
import { restDriver } from "../support/rpc-driver.ts";

async function loginAndVerify(env: Record<string, string>) {
  const server = await startTestServer({ env });
  try {
    const jwks = (await (await fetch(`${server.httpUrl}/api/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    const login = await restDriver(server.httpUrl).call("LoginByPassword", { email: "alg@example.com", password: "algorithm-pw" });
    if (!login.ok) throw new Error(login.message);
    const token = login.body.token.accessToken.token as string;
    // Verified as a third-party service would: only the published JWKS.
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), { issuer: "identra" });
    return { jwks: jwks.keys, header: decodeProtectedHeader(token), payload };
  } finally {
    await server.stop();
  }
}

describe("signing algorithms", () => {
  test("RS256 (default) publishes n and e", async () => {
    const { jwks, header } = await loginAndVerify({});
    expect(jwks[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    expect(jwks[0]!.n).toBeString();
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT", kid: jwks[0]!.kid });
  });

  test("ES256 publishes crv P-256, x and y", async () => {
    const { jwks, header, payload } = await loginAndVerify({ IDENTRA_AUTH_SIGNING_ALGORITHM: "ES256" });
    expect(jwks[0]).toMatchObject({ kty: "EC", alg: "ES256", use: "sig", crv: "P-256" });
    expect(jwks[0]!.x && jwks[0]!.y).toBeTruthy();
    expect(jwks[0]!.n).toBeUndefined();
    expect(header.alg).toBe("ES256");
    expect(payload.typ).toBe("access");
  });

  test("EdDSA publishes crv Ed25519 and x", async () => {
    const { jwks, header } = await loginAndVerify({ IDENTRA_AUTH_SIGNING_ALGORITHM: "EdDSA" });
    expect(jwks[0]).toMatchObject({ kty: "OKP", alg: "EdDSA", use: "sig", crv: "Ed25519" });
    expect(header.alg).toBe("EdDSA");
  });
});

describe("auth.rsa_private_key", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = deriveKid(privateKey.export({ format: "jwk" }));

  for (const type of ["pkcs1", "pkcs8"] as const) {
    test(`a ${type.toUpperCase()} PEM sets the signing key (kid from its modulus)`, async () => {
      const pem = privateKey.export({ type, format: "pem" }).toString();
      const { jwks, header } = await loginAndVerify({ IDENTRA_AUTH_RSA_PRIVATE_KEY: pem });
      expect(header.kid).toBe(kid);
      expect(jwks.map((k) => k.kid)).toContain(kid);
    });
  }

  test("a key that is not PEM stops startup with a message naming the key", async () => {
    await expect(startTestServer({ env: { IDENTRA_AUTH_RSA_PRIVATE_KEY: "not a key" } })).rejects.toThrow("auth.rsa_private_key");
    const broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    await expect(startTestServer({ env: { IDENTRA_AUTH_RSA_PRIVATE_KEY: broken } })).rejects.toThrow("auth.rsa_private_key");
  });
});
