// Test support for the transport suites: a fake IdentraApi/HealthApi (fixed, well-formed data, or a
// thrown AppError per RPC), a complete test Config, a silent logger, and a tiny REST client.
import type { Config } from "../../src/config/types.ts";
import type { Logger } from "../../src/ports/system.ts";
import type { HealthApi, IdentraApi, JwksResult, RequestContext, TokenPair } from "../../src/services/api.ts";

export type RpcName = keyof IdentraApi;

export interface FakeCall {
  rpc: RpcName;
  req: unknown;
  ctx: RequestContext | undefined;
}

export const FIXED_TOKEN_PAIR: TokenPair = {
  accessToken: { token: "access.jwt.value", expiresAt: 1750000900 },
  refreshToken: { token: "refresh.jwt.value", expiresAt: 1750604800 },
  tokenType: "Bearer",
};

export const JWKS_BODY = JSON.stringify({ keys: [{ kty: "RSA", alg: "RS256", use: "sig", kid: "abcdefghijk", n: "nnn", e: "AQAB" }] });
export const JWKS_ETAG = '"jwks-etag-1"';

const FIXED_JWKS: JwksResult = {
  keys: [{ kty: "RSA", alg: "RS256", use: "sig", kid: "abcdefghijk", n: "nnn", e: "AQAB" }],
  body: JWKS_BODY,
  etag: JWKS_ETAG,
};

export interface FakeServices {
  api: IdentraApi;
  health: HealthApi & { setReady(ok: boolean): void };
  calls: FakeCall[];
  /** Makes `rpc` throw `err` (or every RPC when rpc is "*") until cleared with `failWith(rpc, null)`. */
  failWith(rpc: RpcName | "*", err: unknown): void;
  /** Replaces the JWKS document, as a key rotation would, and tells the subscribers. */
  setJwks(next: JwksResult): void;
  /** Every call waits this long before answering (in-flight requests for shutdown tests). */
  setDelay(ms: number): void;
  reset(): void;
}

export const createFakeServices = (): FakeServices => {
  const calls: FakeCall[] = [];
  const failures = new Map<RpcName | "*", unknown>();
  let ready = true;
  let delayMs = 0;
  let jwks: JwksResult = FIXED_JWKS;
  const jwksListeners = new Set<() => void>();
  const run = async <T>(rpc: RpcName, req: unknown, ctx: RequestContext | undefined, result: T): Promise<T> => {
    // The context's fields are read now, during the request, as a use case would read them.
    calls.push({ rpc, req, ctx: ctx && { clientIp: ctx.clientIp, bearerToken: ctx.bearerToken, requestId: ctx.requestId } });
    if (delayMs > 0) await Bun.sleep(delayMs);
    const err = failures.get(rpc) ?? failures.get("*");
    if (err !== undefined) throw err;
    return result;
  };
  const api: IdentraApi = {
    // Synchronous like the real one (a read of the in-memory ring, so not recorded as a call): failable, never delayed.
    getJwks: () => {
      const err = failures.get("getJwks") ?? failures.get("*");
      if (err !== undefined) throw err;
      return jwks;
    },
    onJwksChange: (listener) => {
      jwksListeners.add(listener);
      return () => void jwksListeners.delete(listener);
    },
    getOAuthAuthorizationUrl: (req, ctx) =>
      run("getOAuthAuthorizationUrl", req, ctx, { url: "https://github.example/authorize?state=s1", state: "s1" }),
    loginByOAuth: (req, ctx) =>
      run("loginByOAuth", req, ctx, { token: FIXED_TOKEN_PAIR, username: "octo", avatarUrl: "", email: "o@example.com" }),
    bindUserByOAuth: (req, ctx) =>
      run("bindUserByOAuth", req, ctx, { token: FIXED_TOKEN_PAIR, username: "octo", avatarUrl: "https://a/x.png" }),
    sendLoginEmailCode: (req, ctx) => run("sendLoginEmailCode", req, ctx, undefined),
    loginByEmailCode: (req, ctx) => run("loginByEmailCode", req, ctx, { token: FIXED_TOKEN_PAIR }),
    registerByPassword: (req, ctx) => run("registerByPassword", req, ctx, { token: FIXED_TOKEN_PAIR }),
    loginByPassword: (req, ctx) => run("loginByPassword", req, ctx, { token: FIXED_TOKEN_PAIR }),
    refreshToken: (req, ctx) => run("refreshToken", req, ctx, { token: FIXED_TOKEN_PAIR }),
    revokeRefreshToken: (req, ctx) => run("revokeRefreshToken", req, ctx, undefined),
    listOAuthProviders: () =>
      run("listOAuthProviders", {}, undefined, {
        providers: [
          { name: "github", enabled: false, reason: "missing_client_id" },
          { name: "other", enabled: true },
        ],
      }),
    getCurrentUserLoginInfo: (req, ctx) =>
      run("getCurrentUserLoginInfo", req, ctx, {
        userId: "6f1c9a4e-0000-4000-8000-000000000001",
        email: "u@example.com",
        passwordEnabled: false,
        oauthConnections: [],
      }),
  };
  return {
    api,
    health: {
      ready: async () => ({ ok: ready, checks: { database: ready ? "ok" : "down" } }),
      setReady: (ok) => void (ready = ok),
    },
    calls,
    failWith: (rpc, err) => void (err === null ? failures.delete(rpc) : failures.set(rpc, err)),
    setJwks: (next) => {
      jwks = next;
      for (const listener of jwksListeners) listener();
    },
    setDelay: (ms) => void (delayMs = ms),
    reset: () => {
      delayMs = 0;
      calls.length = 0;
      failures.clear();
      ready = true;
    },
  };
};

export const silentLogger = (): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } => {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
};

let counter = 0;
export const sequentialRequestIds = () => () => `req-${++counter}`;

export const testConfig = (over: { http?: Partial<Config["http"]>; cors?: Partial<Config["cors"]>; log?: Partial<Config["log"]> } = {}): Config => {
  const base: Config = {
    grpcPort: 0,
    httpPort: 0,
    host: "127.0.0.1",
    http: { trustedProxies: [], staticDir: "", maxBodyBytes: 64 * 1024, metricsAllowedCidrs: ["127.0.0.0/8", "::1/128"] },
    cors: { allowedOrigins: [], allowCredentials: false },
    log: { level: "error", format: "json", jwksRequests: false },
    auth: {
      rsaPrivateKey: "",
      tokenIssuer: "identra",
      tokenAudience: "",
      signingAlgorithm: "RS256",
      accessTokenExpiration: 900_000,
      refreshTokenExpiration: 604_800_000,
      refreshReuseInterval: 10_000,
      oauthStateExpiration: 600_000,
      keyRingRefreshInterval: 60_000,
      emailCode: { ttl: 600_000 },
      password: { autoRegister: true, setOnFirstLogin: false, argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 } },
      oauth: { allowedRedirectUrls: [] },
      github: { clientId: "", clientSecret: "", authorizeUrl: "", tokenUrl: "", apiUrl: "", timeout: 10_000 },
      rateLimit: { failedLogin: { max: 5, window: 900_000 }, codeSend: { max: 5, window: 3_600_000, cooldown: 60_000 } },
    },
    redis: { urls: [], password: "" },
    persistence: { type: "sqlite", sqlite: { path: ":memory:" }, mongo: { uri: "", database: "identra" } },
    smtpMailer: { host: "", port: 587, username: "", password: "", fromEmail: "", fromName: "", secure: false, startTls: true, timeout: 10_000 },
  };
  return { ...base, http: { ...base.http, ...over.http }, cors: { ...base.cors, ...over.cors }, log: { ...base.log, ...over.log } };
};

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: unknown;
}

/** A minimal REST client bound to a base URL. */
export const createHttpClient = (baseUrl: string) => {
  const send = async (method: string, path: string, init: { body?: unknown; raw?: NonNullable<RequestInit["body"]>; headers?: Record<string, string> } = {}): Promise<HttpResult> => {
    const headers: Record<string, string> = { ...init.headers };
    let body: NonNullable<RequestInit["body"]> | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => send("GET", path, { headers }),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => send("POST", path, { body, headers }),
    send,
  };
};
