// The JWT attack table (contract §4) end to end over BOTH transports, against the real app: every
// forged, tampered or misused token is refused by GetCurrentUserLoginInfo (Bearer header/metadata)
// with UNAUTHENTICATED `invalid access token`, and by RefreshToken with UNAUTHENTICATED
// `invalid refresh token`. The server runs with auth.token_audience set, so a wrong `aud` is tested
// too. A valid token of the same user passes on the same server (control), so each refusal is the
// token's fault, not the setup's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac, createPublicKey } from "node:crypto";
import { base64url, decodeJwt, SignJWT } from "jose";
import { generateKeyPem, loadKeyMaterial } from "../../src/services/key-material.ts";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { driversFor, expectFailure, freshEmail, GRPC, TRANSPORTS, type Drivers } from "./support.ts";

const AUDIENCE = "api://identra-security-tests";
const INVALID_ACCESS = "invalid access token";
const INVALID_REFRESH = "invalid refresh token";

let server: TestServer;
let d: Drivers;
let valid: { access: string; refresh: string; userId: string; familyId: string };

beforeAll(async () => {
  server = await startTestServer({ env: { IDENTRA_AUTH_TOKEN_AUDIENCE: AUDIENCE } });
  d = driversFor(server);
  const r = await d.rest.call("LoginByPassword", { email: freshEmail("jwt"), password: "a perfectly fine password" });
  if (!r.ok) throw new Error(r.message);
  const access = r.body.token.accessToken.token as string;
  const refresh = r.body.token.refreshToken.token as string;
  valid = { access, refresh, userId: decodeJwt(access).sub!, familyId: String(decodeJwt(refresh).fid) };
});

afterAll(async () => {
  d.close();
  await server.stop();
});

const now = () => Math.floor(Date.now() / 1000);
const split = (t: string) => t.split(".") as [string, string, string];
const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
const dec = (s: string) => JSON.parse(new TextDecoder().decode(base64url.decode(s))) as Record<string, unknown>;

type Typ = "access" | "refresh";
const claimsFor = (typ: Typ, over: Record<string, unknown> = {}) => ({
  iss: "identra",
  aud: AUDIENCE,
  sub: valid.userId,
  uid: valid.userId,
  typ,
  jti: crypto.randomUUID(),
  iat: now(),
  nbf: now(),
  exp: now() + 600,
  ...(typ === "refresh" ? { fid: valid.familyId } : {}),
  ...over,
});

/** Signs with the server's own ACTIVE key (so only the attacked property is wrong). */
const signWithServerKey = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
  const key = server.app.keyRing.active();
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: "JWT", kid: key.kid, ...header }).sign(key.signingKey);
};

/** Each attack builds a token for the type the endpoint expects. */
const ATTACKS: [string, (typ: Typ) => Promise<string>][] = [
  ["alg none", async (typ) => `${enc({ alg: "none", typ: "JWT", kid: server.app.keyRing.active().kid })}.${enc(claimsFor(typ))}.`],
  [
    "HS256 with the public key as the HMAC secret",
    async (typ) => {
      const key = server.app.keyRing.active();
      const head = `${enc({ alg: "HS256", typ: "JWT", kid: key.kid })}.${enc(claimsFor(typ))}`;
      // Both spellings of "the public key" an attacker would try: the JWK JSON and the PEM.
      const pem = createPublicKey({ key: key.jwk as unknown as Parameters<typeof createPublicKey>[0] & object, format: "jwk" } as never).export({ type: "spki", format: "pem" });
      return `${head}.${createHmac("sha256", String(pem)).update(head).digest("base64url")}`;
    },
  ],
  [
    "HS256 with the JWK JSON as the HMAC secret",
    async (typ) => {
      const key = server.app.keyRing.active();
      const head = `${enc({ alg: "HS256", typ: "JWT", kid: key.kid })}.${enc(claimsFor(typ))}`;
      return `${head}.${createHmac("sha256", JSON.stringify(key.jwk)).update(head).digest("base64url")}`;
    },
  ],
  [
    "unknown kid (a key the server never had)",
    async (typ) => {
      const m = await loadKeyMaterial(await generateKeyPem("RS256"), "RS256");
      return new SignJWT(claimsFor(typ)).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: m.kid }).sign(m.signingKey);
    },
  ],
  [
    "foreign key relabelled with the server's kid",
    async (typ) => {
      const m = await loadKeyMaterial(await generateKeyPem("RS256"), "RS256");
      return new SignJWT(claimsFor(typ)).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: server.app.keyRing.active().kid }).sign(m.signingKey);
    },
  ],
  ["no kid", async (typ) => {
    const key = server.app.keyRing.active();
    return new SignJWT(claimsFor(typ)).setProtectedHeader({ alg: key.alg, typ: "JWT" }).sign(key.signingKey);
  }],
  [
    "tampered payload (other user id)",
    async (typ) => {
      const [h, , s] = split(await signWithServerKey(claimsFor(typ)));
      return `${h}.${enc(claimsFor(typ, { sub: "00000000-0000-4000-8000-000000000000", uid: "00000000-0000-4000-8000-000000000000" }))}.${s}`;
    },
  ],
  [
    "tampered payload (exp pushed forward)",
    async (typ) => {
      const t = await signWithServerKey(claimsFor(typ));
      const [h, p, s] = split(t);
      return `${h}.${enc({ ...dec(p), exp: now() + 10 * 365 * 86400 })}.${s}`;
    },
  ],
  [
    "tampered header (kid unchanged, typ changed)",
    async (typ) => {
      const [h, p, s] = split(await signWithServerKey(claimsFor(typ)));
      return `${enc({ ...dec(h), typ: "at+jwt" })}.${p}.${s}`;
    },
  ],
  ["flipped signature bit", async (typ) => {
    const [h, p, s] = split(await signWithServerKey(claimsFor(typ)));
    const sig = Buffer.from(s, "base64url");
    sig[0] = sig[0]! ^ 1;
    return `${h}.${p}.${sig.toString("base64url")}`;
  }],
  ["expired", async (typ) => signWithServerKey(claimsFor(typ, { iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }))],
  ["nbf in the future", async (typ) => signWithServerKey(claimsFor(typ, { iat: now(), nbf: now() + 3600, exp: now() + 7200 }))],
  ["wrong iss", async (typ) => signWithServerKey(claimsFor(typ, { iss: "evil-issuer" }))],
  ["no iss", async (typ) => {
    const c: Record<string, unknown> = claimsFor(typ);
    delete c.iss;
    return signWithServerKey(c);
  }],
  ["wrong aud", async (typ) => signWithServerKey(claimsFor(typ, { aud: "api://someone-else" }))],
  ["no aud (audience configured)", async (typ) => {
    const c: Record<string, unknown> = claimsFor(typ);
    delete c.aud;
    return signWithServerKey(c);
  }],
  ["wrong header typ", async (typ) => signWithServerKey(claimsFor(typ), { typ: "JOSE+JSON" })],
  ["wrong claim typ", async (typ) => signWithServerKey(claimsFor(typ, { typ: "id" }))],
  ["uid differs from sub", async (typ) => signWithServerKey(claimsFor(typ, { uid: "00000000-0000-4000-8000-000000000000" }))],
  ["the other token type (refresh as access / access as refresh)", async (typ) => (typ === "access" ? valid.refresh : valid.access)],
  ["truncated (signature cut)", async (typ) => (typ === "access" ? valid.access : valid.refresh).slice(0, -12)],
  ["two segments only", async (typ) => split(typ === "access" ? valid.access : valid.refresh).slice(0, 2).join(".")],
  ["not a JWT", async () => "not-a-jwt"],
  ["dots only", async () => "...."],
  ["garbage base64", async () => "eyJ!!!.eyJ###.sig"],
  ["JSON instead of a JWT", async () => '{"alg":"none"}'],
  ["huge (> 8 KB) with a valid prefix", async (typ) => (typ === "access" ? valid.access : valid.refresh) + "A".repeat(9000)],
  ["huge (> 8 KB) header segment", async (typ) => {
    const [, p, s] = split(typ === "access" ? valid.access : valid.refresh);
    return `${enc({ alg: "RS256", typ: "JWT", kid: server.app.keyRing.active().kid, pad: "x".repeat(9000) })}.${p}.${s}`;
  }],
];

const callMe = (t: (typeof TRANSPORTS)[number], token: string) => d[t].call("GetCurrentUserLoginInfo", {}, { bearer: token });
const callRefresh = (t: (typeof TRANSPORTS)[number], token: string) => d[t].call("RefreshToken", { refreshToken: token });

describe.each(TRANSPORTS)("JWT attacks over %s", (t) => {
  test("control: the genuine access token is accepted", async () => {
    const r = await callMe(t, valid.access);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.body.userId).toBe(valid.userId);
    // And a token forged with the server's key and correct claims would be too: the table's
    // refusals come from the one property each attack changes.
    expect((await callMe(t, await signWithServerKey(claimsFor("access")))).ok).toBe(true);
  });

  test.each(ATTACKS)("GetCurrentUserLoginInfo refuses: %s", async (_name, build) => {
    expectFailure(await callMe(t, await build("access")), GRPC.UNAUTHENTICATED, INVALID_ACCESS);
  });

  test.each(ATTACKS)("RefreshToken refuses: %s", async (_name, build) => {
    expectFailure(await callRefresh(t, await build("refresh")), GRPC.UNAUTHENTICATED, INVALID_REFRESH);
  });

  test("the deprecated body field access_token is checked the same way", async () => {
    const forged = `${enc({ alg: "none", typ: "JWT" })}.${enc(claimsFor("access"))}.`;
    expectFailure(await d[t].call("GetCurrentUserLoginInfo", { accessToken: forged }), GRPC.UNAUTHENTICATED, INVALID_ACCESS);
  });
});

describe("a token signed by a retired key", () => {
  test("verifies while PASSIVE, is refused on both transports once RETIRED", async () => {
    const { keys } = server.app.stores;
    const oldKid = server.app.keyRing.active().kid;
    const oldAccess = await signWithServerKey(claimsFor("access"));
    const pem = await generateKeyPem("RS256");
    const m = await loadKeyMaterial(pem, "RS256");
    const at = Date.now();
    await keys.add({ kid: m.kid, alg: "RS256", privateKeyPem: pem, state: "PASSIVE", createdAt: at, promoteAt: null, activatedAt: null, retiredAt: null });
    await keys.promote(m.kid, at);
    await server.app.keyRing.refresh();
    expect(server.app.keyRing.active().kid).toBe(m.kid);
    for (const t of TRANSPORTS) expect((await callMe(t, oldAccess)).ok).toBe(true); // PASSIVE still verifies

    await keys.setState(oldKid, "RETIRED", Date.now());
    await server.app.keyRing.refresh();
    for (const t of TRANSPORTS) {
      expectFailure(await callMe(t, oldAccess), GRPC.UNAUTHENTICATED, INVALID_ACCESS);
      expectFailure(await callRefresh(t, valid.refresh), GRPC.UNAUTHENTICATED, INVALID_REFRESH);
    }
    // The new key works; JWKS no longer lists the retired kid.
    expect((await callMe("grpc", await signWithServerKey(claimsFor("access")))).ok).toBe(true);
    const jwks = await d.rest.call("GetJWKS");
    expect(jwks.ok && jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([m.kid]);
  });
});
