// The seeded fuzzer shared by test/security/fuzz-quick.test.ts (500 inputs, every run) and
// test/long/fuzz.test.ts (≥ 10,000 inputs, IDENTRA_LONG_TESTS=1). It starts Identra as its own OS
// process (so a crash is visible), then sends malformed, truncated, wrongly-typed, deeply nested,
// huge-number and random-byte requests at every REST route (random methods, paths, content types,
// bodies, query strings, headers) and every gRPC method (raw random bytes through a pass-through
// serializer, and valid-but-weird messages). Every input carries a unique sentinel; the verdict
// collects any 5xx / INTERNAL-class status, any sentinel found in a response, and whether the
// process is still alive and still logs in correctly afterwards.
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import protobuf from "protobufjs";
import protoText from "../../generated/identra.proto" with { type: "text" };
import { spawnServer, type SpawnedServer } from "../support/spawn-server.ts";
import { startSmtpSink, type SmtpSink, smtpEnv } from "../support/smtp-sink.ts";

// ---- seeded randomness -------------------------------------------------------------------------

export interface Rng {
  next(): number;
  int(max: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export const createRng = (seed: number): Rng => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    next,
    int,
    pick: (xs) => xs[int(xs.length)]!,
    chance: (p) => next() < p,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
  };
};

// ---- shared pieces ---------------------------------------------------------------------------

const FIELDS = ["email", "password", "code", "state", "provider", "redirect_url", "redirectUrl", "refresh_token", "refreshToken", "access_token", "accessToken", "use_html", "useHtml"];

const WEIRD_STRINGS = [
  "",
  " ",
  "\u0000",
  "\r\nBcc: x@y.z",
  "' OR 1=1 --",
  '{"$ne": null}',
  "😀".repeat(40),
  "\u202E\u200B\u0301",
  "\uD800",
  "%00%0d%0a",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "a".repeat(300),
  "github",
  "GitHub",
  "user@example.com",
  "USER@EXAMPLE.COM ",
  "123456",
  "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
  "https://app.example/cb",
  "javascript:alert(1)",
  "null",
  "true",
  "-1",
  "1e309",
];

/** A string that carries the sentinel in some shape. */
const sentinelString = (rng: Rng, s: string): string => {
  switch (rng.int(8)) {
    case 0:
      return s;
    case 1:
      return `${s}@example.com`;
    case 2:
      return `user+${s}@example.com`;
    case 3:
      return `${rng.pick(WEIRD_STRINGS)}${s}${rng.pick(WEIRD_STRINGS)}`;
    case 4:
      return `https://app.example/cb?x=${s}`;
    case 5:
      return `${s}.${s}.${s}`;
    case 6:
      return `${s}${"x".repeat(rng.int(2000))}`;
    default:
      return `${rng.pick(WEIRD_STRINGS)}${s}`;
  }
};

const HUGE_NUMBERS = ["1e999999", "-1e999999", "123456789012345678901234567890", "-0", "0.0000000000000000000000001", "9007199254740993", "1E+400", "NaN", "Infinity", "0x10", "01"];

/** A JSON text for a random value (may be invalid JSON on purpose: NaN, Infinity, 0x10). */
const jsonValue = (rng: Rng, s: string, depth = 0): string => {
  const k = rng.int(depth > 2 ? 6 : 9);
  switch (k) {
    case 0:
      return JSON.stringify(sentinelString(rng, s));
    case 1:
      return JSON.stringify(sentinelString(rng, s));
    case 2:
      return rng.pick(HUGE_NUMBERS);
    case 3:
      return rng.pick(["true", "false", "null"]);
    case 4:
      return String(rng.int(1_000_000) - 500_000);
    case 5:
      return JSON.stringify(rng.pick(WEIRD_STRINGS));
    case 6:
      return `[${Array.from({ length: rng.int(4) }, () => jsonValue(rng, s, depth + 1)).join(",")}]`;
    case 7:
      return jsonObject(rng, s, depth + 1);
    default:
      return `{"$ne": ${JSON.stringify(s)}}`;
  }
};

const jsonObject = (rng: Rng, s: string, depth = 0): string => {
  const n = rng.int(6);
  const keys = Array.from({ length: n }, () => (rng.chance(0.8) ? rng.pick(FIELDS) : rng.pick(["__proto__", "constructor", "prototype", s, "", "a".repeat(100), "\u0000"])));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${jsonValue(rng, s, depth)}`).join(",")}}`;
};

const deepNesting = (rng: Rng, s: string, depth: number): string => {
  if (rng.chance(0.5)) return `${"[".repeat(depth)}${JSON.stringify(s)}${"]".repeat(depth)}`;
  const key = rng.pick(["email", "a", "password"]);
  return `${`{"${key}":`.repeat(depth)}${JSON.stringify(s)}${"}".repeat(depth)}`;
};

const mutate = (rng: Rng, text: string): string => {
  let out = text;
  for (let i = rng.int(4) + 1; i > 0; i--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + rng.int(5));
        break;
      case 1:
        out = out.slice(0, at) + rng.pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\\u", "\\ud800", "\u0000", "\n"]) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at);
        break;
      default:
        out = out + out.slice(0, at);
    }
  }
  return out;
};

// ---- REST ----------------------------------------------------------------------------------------

const REST_ROUTES: [string, string][] = [
  ["GET", "/api/.well-known/jwks.json"],
  ["GET", "/api/oauth/url"],
  ["POST", "/api/oauth/login"],
  ["POST", "/api/oauth/bind"],
  ["POST", "/api/email/code"],
  ["POST", "/api/email/login"],
  ["POST", "/api/password/register"],
  ["POST", "/api/password/login"],
  ["POST", "/api/token/refresh"],
  ["POST", "/api/token/revoke"],
  ["GET", "/api/oauth/providers"],
  ["POST", "/api/me/login-info"],
  ["GET", "/healthz"],
  ["GET", "/readyz"],
  ["GET", "/metrics"],
  ["GET", "/api/docs"],
  ["GET", "/api/openapi.json"],
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/xml",
  "application/octet-stream",
  "application/grpc",
  "*/*",
  "application/json; boundary=",
  ";;;",
];

export interface RestInput {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array | string | null;
}

const restPath = (rng: Rng, base: string, s: string): string => {
  if (rng.chance(0.75)) return base;
  switch (rng.int(8)) {
    case 0:
      return `${base}/${s}`;
    case 1:
      return base.toUpperCase();
    case 2:
      return `/${base}`.replace("//", "//");
    case 3:
      return `${base}/`;
    case 4:
      return `/api/${s}/../..${base}`;
    case 5:
      return `/api/%2e%2e/${s}%00%0d%0a`;
    case 6:
      return `/${s}${"/a".repeat(rng.int(3000))}`;
    case 7:
      return `${base};${s}`;
    default:
      return base;
  }
};

const queryString = (rng: Rng, s: string): string => {
  if (rng.chance(0.4)) return "";
  const parts = Array.from({ length: rng.int(6) + 1 }, () => {
    const k = rng.chance(0.8) ? rng.pick(FIELDS) : rng.pick([`${rng.pick(FIELDS)}[$ne]`, `${rng.pick(FIELDS)}[]`, s, "%zz", "", "__proto__"]);
    const v = rng.chance(0.2) ? "%zz%" : encodeURIComponent(sentinelString(rng, s).toWellFormed());
    return rng.chance(0.1) ? k : `${k}=${v}`;
  });
  return `?${parts.join(rng.chance(0.9) ? "&" : ";")}`;
};

const restBody = (rng: Rng, s: string, maxBody: number): Uint8Array | string | null => {
  switch (rng.int(14)) {
    case 0:
      return null;
    case 1:
      return "";
    case 2:
    case 3:
      return jsonObject(rng, s);
    case 4: {
      const t = jsonObject(rng, s);
      return t.slice(0, rng.int(t.length));
    }
    case 5:
      return mutate(rng, jsonObject(rng, s));
    case 6:
      return deepNesting(rng, s, rng.chance(0.5) ? 10_000 : rng.int(2000) + 1);
    case 7:
      return `{"email":${rng.pick(HUGE_NUMBERS)},"password":${rng.pick(HUGE_NUMBERS)},"${s}":${rng.pick(HUGE_NUMBERS)}}`;
    case 8: {
      const b = rng.bytes(rng.int(1024));
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(s), b.subarray(at)]);
    }
    case 9:
      return rng.pick([JSON.stringify(s), `[${JSON.stringify(s)}]`, "42", "null", "true", `"${s}`]);
    case 10:
      return `\uFEFF{"email":"${s}@example.com","email":${JSON.stringify(s)},"password":"${s}"}`;
    case 11:
      return Buffer.from(`{"email":"${s}@example.com","password":"${s}-password"}`, "utf16le");
    case 12:
      return `{"password":"${s}${"p".repeat(rng.chance(0.3) ? maxBody : rng.int(4000))}"}`;
    default:
      return `email=${s}%40example.com&password=${s}`;
  }
};

export const restInput = (rng: Rng, s: string, opts: { maxBody: number; validTokens: string[] }): RestInput => {
  const [routeMethod, base] = rng.pick(REST_ROUTES);
  const method = rng.chance(0.8) ? routeMethod : rng.pick(METHODS);
  const headers: Record<string, string> = {};
  if (rng.chance(0.8)) headers["content-type"] = rng.pick(CONTENT_TYPES);
  if (rng.chance(0.4)) {
    headers.authorization = rng.pick([
      `Bearer ${s}`,
      "Bearer",
      `Basic ${Buffer.from(`${s}:x`).toString("base64")}`,
      `bearer  ${s} extra`,
      `Bearer ${rng.pick(opts.validTokens)}`,
      `Bearer ${rng.pick(opts.validTokens)}${s}`,
      `Bearer ${"A".repeat(9000)}${s}`,
    ]);
  }
  if (rng.chance(0.2)) headers["x-request-id"] = rng.pick(["", "a b", "x".repeat(200), `id-${rng.int(1e6)}`, "\u00e9"]);
  if (rng.chance(0.2)) headers["x-forwarded-for"] = rng.pick(["1.2.3.4", "::1, 999.1.1.1", "garbage", `${s}`, "1.1.1.1,".repeat(100)]);
  if (rng.chance(0.2)) headers.origin = rng.pick(["https://evil.example", "null", `https://${s}.example`, "https://app.example"]);
  if (rng.chance(0.1)) headers["content-encoding"] = rng.pick(["gzip", "br", "deflate", "identity", s]);
  if (rng.chance(0.1)) headers["if-none-match"] = rng.pick(['"x"', "*", s, "W/"]);
  if (rng.chance(0.05)) headers.host = rng.pick(["x", "a b", "", "[::1", `${s}.example`, "localhost:1"]);
  if (rng.chance(0.05)) headers.expect = "100-continue";
  const body = method === "GET" || method === "HEAD" ? null : restBody(rng, s, opts.maxBody);
  return { method, path: restPath(rng, base, s) + queryString(rng, s), headers, body };
};

// ---- gRPC ------------------------------------------------------------------------------------

const root = protobuf.parse(protoText, { keepCase: true }).root;
const service = root.lookupService("identra.v1.IdentraService");
export const GRPC_METHODS = service.methodsArray.map((m) => ({ path: `/identra.v1.IdentraService/${m.name}`, type: root.lookupType(m.resolvedRequestType?.fullName ?? `identra.v1.${m.name}Request`) }));

const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
};

const grpcMessage = (rng: Rng, s: string, type: protobuf.Type): Buffer => {
  const sb = Buffer.from(s);
  switch (rng.int(10)) {
    case 0: {
      const b = rng.bytes(rng.int(512));
      const at = rng.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), sb, b.subarray(at)]);
    }
    case 1:
    case 2:
    case 3: {
      // Valid encoding, weird values.
      const msg: Record<string, unknown> = {};
      for (const f of type.fieldsArray) {
        if (rng.chance(0.2)) continue;
        msg[f.name] = f.type === "bool" ? rng.chance(0.5) : sentinelString(rng, s);
      }
      return Buffer.from(type.encode(type.fromObject(msg)).finish());
    }
    case 4: {
      const msg: Record<string, unknown> = {};
      for (const f of type.fieldsArray) if (f.type !== "bool") msg[f.name] = sentinelString(rng, s);
      const full = Buffer.from(type.encode(type.fromObject(msg)).finish());
      return full.subarray(0, rng.int(full.length + 1));
    }
    case 5: {
      // Known field numbers with the wrong wire types (varint / fixed64 / fixed32 / group).
      const parts: number[] = [];
      for (let i = 0; i < rng.int(6) + 1; i++) {
        const field = rng.int(6) + 1;
        const wire = rng.pick([0, 1, 5, 3, 4, 6, 7]);
        parts.push(...varint((field << 3) | wire));
        if (wire === 0) parts.push(...varint(rng.int(2 ** 31)));
        if (wire === 1) parts.push(...rng.bytes(8));
        if (wire === 5) parts.push(...rng.bytes(4));
      }
      return Buffer.concat([Buffer.from(parts), sb]);
    }
    case 6:
      // A length prefix far beyond the message, or an over-long varint.
      return Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), sb, Buffer.from(rng.chance(0.5) ? [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : [])]);
    case 7:
      // Deeply nested groups (start-group tags of an unknown field, 10,000 deep).
      return Buffer.concat([Buffer.from(new Array(10_000).fill(0xa3)), sb, Buffer.from(new Array(10_000).fill(0xa4))]);
    case 8: {
      // Unknown fields carrying the sentinel next to valid ones.
      const parts = [...varint((99 << 3) | 2), ...varint(sb.length), ...sb];
      return Buffer.concat([Buffer.from(type.encode(type.fromObject({})).finish()), Buffer.from(parts)]);
    }
    default:
      return Buffer.alloc(0);
  }
};

export interface GrpcInput {
  path: string;
  message: Buffer;
  metadata: grpc.Metadata;
}

export const grpcInput = (rng: Rng, s: string, opts: { validTokens: string[] }): GrpcInput => {
  const method = rng.chance(0.97)
    ? rng.pick(GRPC_METHODS)
    : { path: rng.pick(["/identra.v1.IdentraService/Nope", `/identra.v1.${s}/X`, "/grpc.health.v1.Health/Check"]), type: root.lookupType("identra.v1.GetJWKSRequest") };
  const md = new grpc.Metadata();
  if (rng.chance(0.4)) md.set("authorization", rng.pick([`Bearer ${s}`, "Bearer", `Bearer ${rng.pick(opts.validTokens)}`, `Bearer ${rng.pick(opts.validTokens)}${s}`, `Basic ${s}`]));
  if (rng.chance(0.2)) md.set("x-request-id", rng.pick([`id-${rng.int(1e6)}`, "a b", "x".repeat(300)]));
  if (rng.chance(0.2)) md.set("x-forwarded-for", rng.pick(["1.2.3.4", "garbage", s]));
  if (rng.chance(0.1)) md.set("x-fuzz-bin", Buffer.from(rng.bytes(rng.int(64))));
  return { path: method.path, message: grpcMessage(rng, s, method.type), metadata: md };
};

// ---- raw HTTP/2 framing (below grpc-js's message decoding) --------------------------------------

export interface H2Input {
  headers: Record<string, string>;
  body: Buffer;
}

const lengthPrefixed = (flag: number, payload: Buffer, length = payload.length): Buffer => {
  const h = Buffer.alloc(5);
  h[0] = flag;
  h.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([h, payload]);
};

export const h2Input = (rng: Rng, s: string): H2Input => {
  const method = rng.pick(GRPC_METHODS);
  const payload = grpcMessage(rng, s, method.type);
  const headers: Record<string, string> = {
    ":method": rng.chance(0.9) ? "POST" : rng.pick(["GET", "PUT", "OPTIONS"]),
    ":path": rng.chance(0.9) ? method.path : rng.pick([`${method.path}/`, method.path.toLowerCase(), "/", "/identra.v1.IdentraService/"]),
    "content-type": rng.chance(0.85) ? rng.pick(["application/grpc", "application/grpc+proto"]) : rng.pick(["application/json", "text/plain", "application/grpc+json", s]),
    te: rng.chance(0.9) ? "trailers" : "gzip",
  };
  if (rng.chance(0.3)) headers["grpc-encoding"] = rng.pick(["gzip", "deflate", "identity", "snappy", s.toLowerCase()]);
  if (rng.chance(0.2)) headers["grpc-timeout"] = rng.pick(["1S", "100m", "999999999H", "0n", "-1S", "1.5S", s, ""]);
  if (rng.chance(0.1)) headers["grpc-accept-encoding"] = rng.pick(["gzip", s.toLowerCase(), ""]);
  let body: Buffer;
  switch (rng.int(8)) {
    case 0:
      body = Buffer.alloc(0);
      break;
    case 1:
      body = lengthPrefixed(0, payload).subarray(0, rng.int(payload.length + 5));
      break;
    case 2:
      body = lengthPrefixed(0, payload, payload.length + 1 + rng.int(1000));
      break;
    case 3:
      body = Buffer.concat([lengthPrefixed(0, payload), lengthPrefixed(0, payload)]);
      break;
    case 4:
      body = lengthPrefixed(1, rng.chance(0.5) ? payload : Buffer.from(rng.bytes(rng.int(64))));
      break;
    case 5:
      body = lengthPrefixed(rng.int(256), payload);
      break;
    case 6:
      body = lengthPrefixed(0, payload, rng.pick([0xffffffff, 0x80000000, 70_000]));
      break;
    default:
      body = lengthPrefixed(0, payload);
  }
  return { headers, body };
};

// ---- the run -----------------------------------------------------------------------------------

export interface FuzzOptions {
  seed: number;
  restCount: number;
  grpcCount: number;
  /** Raw HTTP/2 gRPC requests with broken framing and headers (default 10 % of grpcCount, taken from it). */
  h2Count?: number;
  concurrency: number;
}

export interface FuzzReport {
  seed: number;
  rest: number;
  grpc: number;
  /** Of `grpc`: how many were raw HTTP/2 framing inputs. */
  h2: number;
  durationMs: number;
  restStatuses: Record<string, number>;
  grpcCodes: Record<string, number>;
  /** Client-side connection errors (e.g. the server closed an oversize upload early). */
  connectionErrors: number;
  failures: string[];
  aliveAfter: boolean;
  loginAfter: { rest: boolean; grpc: boolean };
  unhandledErrorLines: string[];
  exitCode: number | null;
}

/** grpc-js codes that mean the server failed, not the input: UNKNOWN, INTERNAL, UNAVAILABLE, DATA_LOSS. */
const SERVER_FAULT_CODES = new Set([2, 13, 14, 15]);
/** The one echo the contract asks for: `provider <name> not supported`, the name reduced to [\w.-]{0,32}. */
const ALLOWED_ECHO = /"message":"provider [\w.-]{0,32} not supported"/;

const passThrough = (b: Buffer) => b;

export async function runFuzz(opts: FuzzOptions, log: (line: string) => void = () => {}): Promise<FuzzReport> {
  const dataDir = mkdtempSync(join(tmpdir(), "identra-fuzz-"));
  const sink: SmtpSink = await startSmtpSink();
  const maxBody = 65536;
  let server: SpawnedServer | null = null;
  const report: FuzzReport = {
    seed: opts.seed,
    rest: 0,
    grpc: 0,
    h2: 0,
    durationMs: 0,
    restStatuses: {},
    grpcCodes: {},
    connectionErrors: 0,
    failures: [],
    aliveAfter: false,
    loginAfter: { rest: false, grpc: false },
    unhandledErrorLines: [],
    exitCode: null,
  };
  try {
    server = await spawnServer({
      env: {
        IDENTRA_PERSISTENCE_SQLITE_PATH: join(dataDir, "users.db"),
        IDENTRA_HTTP_MAX_BODY_BYTES: String(maxBody),
        IDENTRA_LOG_LEVEL: "error",
        ...smtpEnv(sink.port),
        IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "1000000",
        IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "1000000",
        IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s",
        IDENTRA_CORS_ALLOWED_ORIGINS: "https://app.example",
        // GitHub "configured" against a closed local port, so the OAuth paths run past the config check.
        IDENTRA_AUTH_GITHUB_CLIENT_ID: "fuzz-client",
        IDENTRA_AUTH_GITHUB_CLIENT_SECRET: "fuzz-secret",
        IDENTRA_AUTH_GITHUB_TOKEN_URL: "http://127.0.0.1:9/login/oauth/access_token",
        IDENTRA_AUTH_GITHUB_API_URL: "http://127.0.0.1:9",
        IDENTRA_AUTH_GITHUB_TIMEOUT: "500ms",
        IDENTRA_AUTH_OAUTH_ALLOWED_REDIRECT_URLS: "https://app.example/cb",
      },
    });
    const srv = server;
    const login = async () => {
      const res = await fetch(`${srv.httpUrl}/api/password/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "fuzz-owner@example.com", password: "fuzz-owner-password" }),
      });
      return { status: res.status, body: (await res.json()) as { token?: { accessToken: { token: string }; refreshToken: { token: string } } } };
    };
    const first = await login();
    const validTokens = first.body.token ? [first.body.token.accessToken.token, first.body.token.refreshToken.token] : ["none"];

    const rng = createRng(opts.seed);
    // Inputs are generated up front from the one seeded stream, so a run is reproducible whatever
    // the scheduling of the concurrent workers.
    const sentinel = (i: number) => `QZX${opts.seed.toString(36)}N${i.toString(36)}XZQ`;
    type Job = { kind: "rest"; s: string; input: RestInput } | { kind: "grpc"; s: string; input: GrpcInput } | { kind: "h2"; s: string; input: H2Input };
    const h2Share = (opts.h2Count ?? Math.round(opts.grpcCount / 10)) / Math.max(1, opts.grpcCount);
    const jobs: Job[] = [];
    const total = opts.restCount + opts.grpcCount;
    let restLeft = opts.restCount;
    for (let i = 0; i < total; i++) {
      const s = sentinel(i);
      const rest = restLeft > 0 && (total - i === restLeft || rng.next() < opts.restCount / total);
      if (rest) {
        restLeft--;
        jobs.push({ kind: "rest", s, input: restInput(rng, s, { maxBody, validTokens }) });
      } else if (rng.next() < h2Share) jobs.push({ kind: "h2", s, input: h2Input(rng, s) });
      else jobs.push({ kind: "grpc", s, input: grpcInput(rng, s, { validTokens }) });
    }

    const clients = Array.from({ length: 4 }, () => new grpc.Client(srv.grpcAddress, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 16 * 1024 * 1024 }));
    const fail = (msg: string) => {
      if (report.failures.length < 50) report.failures.push(msg);
      else if (report.failures.length === 50) report.failures.push("… more failures omitted");
    };
    const bump = (m: Record<string, number>, k: string) => void (m[k] = (m[k] ?? 0) + 1);

    const runRest = async (s: string, input: RestInput) => {
      let res: Response;
      try {
        res = await fetch(`${srv.httpUrl}${input.path}`, {
          method: input.method,
          headers: input.headers,
          ...(input.body !== null ? { body: input.body } : {}),
          redirect: "manual",
          signal: AbortSignal.timeout(15_000),
        });
      } catch {
        report.connectionErrors++;
        return;
      }
      const body = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0))).toString("latin1");
      report.rest++;
      bump(report.restStatuses, String(res.status));
      if (res.status >= 500) fail(`REST ${input.method} ${input.path.slice(0, 80)} → ${res.status} ${body.slice(0, 200)}`);
      if (body.includes(s) && !ALLOWED_ECHO.test(body)) fail(`REST ${input.method} ${input.path.slice(0, 80)} echoed the input: ${body.slice(0, 200)}`);
      for (const [k, v] of res.headers) {
        if (k !== "x-request-id" && v.includes(s)) fail(`REST ${input.method} ${input.path.slice(0, 80)} echoed the input in header ${k}`);
      }
      if (res.headers.get("x-request-id") && res.status >= 400 && body.length > 0) {
        try {
          const e = JSON.parse(body) as { code?: unknown; message?: unknown; details?: unknown };
          if (typeof e.code !== "number" || typeof e.message !== "string" || !Array.isArray(e.details)) fail(`REST error body not in the contract shape: ${body.slice(0, 120)}`);
        } catch {
          fail(`REST error body is not JSON: ${body.slice(0, 120)}`);
        }
      }
    };

    const runGrpc = async (s: string, input: GrpcInput, client: grpc.Client) => {
      const outcome = await new Promise<{ err: grpc.ServiceError | null; res: Buffer | undefined }>((resolve) =>
        client.makeUnaryRequest(input.path, passThrough, passThrough, input.message, input.metadata, { deadline: Date.now() + 15_000 }, (err, res) => resolve({ err, res })),
      );
      report.grpc++;
      const code = outcome.err ? outcome.err.code : 0;
      bump(report.grpcCodes, grpc.status[code] ?? String(code));
      if (SERVER_FAULT_CODES.has(code)) fail(`gRPC ${input.path} → ${grpc.status[code]} ${outcome.err?.details}`);
      const text = `${outcome.err?.details ?? ""}${outcome.res ? outcome.res.toString("latin1") : ""}`;
      // grpc-js itself names an unknown method in its UNIMPLEMENTED status (the :path, not a request
      // field); that protocol-level echo is the one exemption besides the contract's provider echo.
      const unknownMethod = code === 12 && outcome.err?.details === `The server does not implement the method ${input.path}`;
      if (text.includes(s) && !unknownMethod && !ALLOWED_ECHO.test(`"message":"${outcome.err?.details ?? ""}"`)) fail(`gRPC ${input.path} echoed the input: ${text.slice(0, 200)}`);
    };

    const sessions = Array.from({ length: 2 }, () => http2.connect(`http://${srv.grpcAddress}`));
    for (const sess of sessions) sess.on("error", () => {});
    const runH2 = async (s: string, input: H2Input, w: number) => {
      let sess = sessions[w % sessions.length]!;
      if (sess.closed || sess.destroyed) {
        sess = sessions[w % sessions.length] = http2.connect(`http://${srv.grpcAddress}`);
        sess.on("error", () => {});
      }
      const outcome = await new Promise<{ http: number; grpcStatus: number | null; message: string; reset?: number } | null>((resolve) => {
        let req: http2.ClientHttp2Stream;
        try {
          req = sess.request(input.headers);
        } catch {
          resolve(null);
          return;
        }
        let head: http2.IncomingHttpHeaders = {};
        let trailers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), 15_000);
        req.on("response", (h) => (head = h));
        req.on("trailers", (t) => (trailers = t));
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("close", () => {
          clearTimeout(timer);
          // A stream reset without an answer: HTTP/2 refuses malformed requests this way (e.g. a TE
          // other than "trailers" is PROTOCOL_ERROR by RFC 9113 §8.2.2) — a protocol answer, not a fault.
          if (head[":status"] === undefined) return resolve(req.rstCode ? { http: 0, grpcStatus: null, message: "", reset: req.rstCode } : null);
          const gs = trailers["grpc-status"] ?? head["grpc-status"];
          let message = String(trailers["grpc-message"] ?? head["grpc-message"] ?? "");
          try {
            message = decodeURIComponent(message);
          } catch {
            // keep the raw text
          }
          resolve({ http: Number(head[":status"]), grpcStatus: gs === undefined ? null : Number(gs), message: message + Buffer.concat(chunks).toString("latin1") });
        });
        req.on("error", () => {});
        req.end(input.body);
      });
      if (!outcome) {
        report.connectionErrors++;
        return;
      }
      report.grpc++;
      report.h2++;
      const bucket = outcome.reset !== undefined ? `RST_STREAM ${outcome.reset}` : outcome.grpcStatus === null ? `HTTP ${outcome.http}` : (grpc.status[outcome.grpcStatus] ?? String(outcome.grpcStatus));
      bump(report.grpcCodes, bucket);
      if (outcome.reset !== undefined && outcome.reset !== http2.constants.NGHTTP2_PROTOCOL_ERROR) fail(`h2 stream reset with code ${outcome.reset}`);
      const what = `h2 ${input.headers[":method"]} ${input.headers[":path"]} ${JSON.stringify(Object.fromEntries(Object.entries(input.headers).filter(([k]) => !k.startsWith(":")))).slice(0, 160)}`;
      if (outcome.http >= 500) fail(`${what} → HTTP ${outcome.http}`);
      if (outcome.grpcStatus !== null && SERVER_FAULT_CODES.has(outcome.grpcStatus)) fail(`${what} → ${grpc.status[outcome.grpcStatus]} ${outcome.message.slice(0, 160)}`);
      const unknownMethod = outcome.message.startsWith("The server does not implement the method ");
      const providerEcho = /^provider [\w.-]{0,32} not supported$/.test(outcome.message);
      if (outcome.message.includes(s) && !unknownMethod && !providerEcho) fail(`${what} echoed the input: ${outcome.message.slice(0, 160)}`);
    };

    const started = performance.now();
    let next = 0;
    let done = 0;
    const worker = async (w: number) => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        if (job.kind === "rest") await runRest(job.s, job.input);
        else if (job.kind === "h2") await runH2(job.s, job.input, w);
        else await runGrpc(job.s, job.input, clients[w % clients.length]!);
        if (++done % 2000 === 0) log(`fuzz: ${done}/${jobs.length} after ${Math.round(performance.now() - started)} ms`);
        if (srv.proc.exitCode !== null) {
          fail(`server exited with ${srv.proc.exitCode} after ${done} inputs`);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
    report.durationMs = Math.round(performance.now() - started);
    for (const c of clients) c.close();
    for (const sess of sessions) sess.close();

    report.aliveAfter = srv.proc.exitCode === null;
    const after = await login();
    report.loginAfter.rest = after.status === 200 && typeof after.body.token?.accessToken.token === "string";
    const grpcClient = new grpc.Client(srv.grpcAddress, grpc.credentials.createInsecure());
    const type = root.lookupType("identra.v1.LoginByPasswordRequest");
    const msg = Buffer.from(type.encode(type.fromObject({ email: "fuzz-owner@example.com", password: "fuzz-owner-password" })).finish());
    report.loginAfter.grpc = await new Promise<boolean>((resolve) =>
      grpcClient.makeUnaryRequest("/identra.v1.IdentraService/LoginByPassword", passThrough, passThrough, msg, new grpc.Metadata(), (err, res) => resolve(!err && !!res && res.length > 100)),
    );
    grpcClient.close();
    report.unhandledErrorLines = srv
      .output()
      .split("\n")
      .filter((l) => l.includes('"level":"error"') || l.includes("unhandled"))
      .slice(0, 20);
    report.exitCode = await srv.stop("SIGTERM");
    server = null;
    return report;
  } finally {
    if (server) await server.stop("SIGKILL");
    await sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
