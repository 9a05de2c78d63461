import { isIP } from "node:net";
import { SIGNING_ALGORITHMS } from "../domain/keys.ts";
import { ConfigError } from "./errors.ts";
import { createReader } from "./reader.ts";
import { mergeSources, type ConfigSources } from "./sources.ts";
import type { Config } from "./types.ts";

const MAX_PORT = 65535;

function checkCidrs(key: string, values: string[]): string[] {
  for (const v of values) {
    const [addr, bits, extra] = v.split("/");
    const family = isIP(addr ?? "");
    const max = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max);
    if (!family || !okBits || extra !== undefined) throw new ConfigError(key, `"${v}" is not an IP address or CIDR`);
  }
  return values;
}

function checkOrigins(key: string, values: string[]): string[] {
  for (const v of values) {
    if (v !== "*" && !(URL.canParse(v) && new URL(v).origin === v)) {
      throw new ConfigError(key, `"${v}" is not an origin like https://app.example.com`);
    }
  }
  return values;
}

/** Reads defaults ← file ← environment once, validates every key and returns a frozen Config. */
export function loadConfig(sources: ConfigSources): Config {
  const r = createReader(mergeSources(sources));
  const cors = { allowedOrigins: checkOrigins("cors.allowed_origins", r.list("cors.allowed_origins")), allowCredentials: r.bool("cors.allow_credentials") };
  if (cors.allowCredentials && cors.allowedOrigins.includes("*")) {
    throw new ConfigError("cors.allow_credentials", 'cannot be true while cors.allowed_origins contains "*"');
  }
  const rsaPrivateKey = r.str("auth.rsa_private_key").trim();
  if (rsaPrivateKey && !rsaPrivateKey.startsWith("-----BEGIN")) {
    throw new ConfigError("auth.rsa_private_key", "must be a PEM private key (PKCS#1 or PKCS#8)");
  }
  const persistenceType = r.oneOf("persistence.type", ["sqlite", "mongo"] as const);
  const mongoUri = r.str("persistence.mongo.uri").trim();
  if (persistenceType === "mongo" && !/^mongodb(\+srv)?:\/\//.test(mongoUri)) {
    throw new ConfigError("persistence.mongo.uri", "must be a mongodb:// URI when persistence.type = mongo");
  }
  const redisUrls = r.list("redis.urls");
  for (const u of redisUrls) {
    if (!/^rediss?:\/\/[^\s]+$/.test(u)) throw new ConfigError("redis.urls", `"${u.replace(/\/\/[^@]*@/, "//***@")}" is not a redis:// URL`);
  }
  const smtpHost = r.str("smtp_mailer.host").trim();
  const fromEmail = r.str("smtp_mailer.from_email").trim();
  if (smtpHost && !fromEmail) throw new ConfigError("smtp_mailer.from_email", "is required when smtp_mailer.host is set");

  const config: Config = {
    grpcPort: r.int("grpc_port", 0, MAX_PORT),
    httpPort: r.int("http_port", 0, MAX_PORT),
    host: r.str("bind_address").trim() || "0.0.0.0",
    http: {
      trustedProxies: checkCidrs("http.trusted_proxies", r.list("http.trusted_proxies")),
      staticDir: r.str("http.static_dir").trim(),
      maxBodyBytes: r.int("http.max_body_bytes", 1024, 16 * 1024 * 1024),
      metricsAllowedCidrs: checkCidrs("http.metrics_allowed_cidrs", r.list("http.metrics_allowed_cidrs")),
    },
    cors,
    log: {
      level: r.oneOf("log.level", ["debug", "info", "warn", "error"] as const),
      format: r.oneOf("log.format", ["json", "pretty"] as const),
      jwksRequests: r.bool("log.jwks_requests"),
    },
    auth: {
      rsaPrivateKey,
      tokenIssuer: r.str("auth.token_issuer").trim() || "identra",
      tokenAudience: r.str("auth.token_audience").trim(),
      signingAlgorithm: r.oneOf("auth.signing_algorithm", SIGNING_ALGORITHMS),
      accessTokenExpiration: r.duration("auth.access_token_expiration", 1000),
      refreshTokenExpiration: r.duration("auth.refresh_token_expiration", 1000),
      refreshReuseInterval: r.duration("auth.refresh_reuse_interval", 0),
      oauthStateExpiration: r.duration("auth.oauth_state_expiration", 1000),
      keyRingRefreshInterval: r.duration("auth.key_ring_refresh_interval", 100),
      emailCode: { ttl: r.duration("auth.email_code.ttl", 1000) },
      password: {
        autoRegister: r.bool("auth.password.auto_register"),
        setOnFirstLogin: r.bool("auth.password.set_on_first_login"),
        argon2: {
          memoryCost: r.int("auth.password.argon2.memory_cost", 1024, 4 * 1024 * 1024),
          timeCost: r.int("auth.password.argon2.time_cost", 1, 100),
          parallelism: r.int("auth.password.argon2.parallelism", 1, 64),
        },
      },
      oauth: { allowedRedirectUrls: r.list("auth.oauth.allowed_redirect_urls") },
      github: {
        clientId: r.str("auth.github.client_id").trim(),
        clientSecret: r.str("auth.github.client_secret").trim(),
        authorizeUrl: r.url("auth.github.authorize_url"),
        tokenUrl: r.url("auth.github.token_url"),
        apiUrl: r.url("auth.github.api_url"),
        timeout: r.duration("auth.github.timeout", 100),
      },
      rateLimit: {
        failedLogin: { max: r.int("auth.rate_limit.failed_login.max", 1, 1_000_000), window: r.duration("auth.rate_limit.failed_login.window", 1000) },
        codeSend: {
          max: r.int("auth.rate_limit.code_send.max", 1, 1_000_000),
          window: r.duration("auth.rate_limit.code_send.window", 1000),
          cooldown: r.duration("auth.rate_limit.code_send.cooldown", 0),
        },
      },
    },
    redis: { urls: redisUrls, password: r.str("redis.password") },
    persistence: {
      type: persistenceType,
      sqlite: { path: r.str("persistence.sqlite.path").trim() || "data/users.db" },
      mongo: { uri: mongoUri, database: r.str("persistence.mongo.database").trim() || "identra" },
    },
    smtpMailer: {
      host: smtpHost,
      port: r.int("smtp_mailer.port", 1, MAX_PORT),
      username: r.str("smtp_mailer.username"),
      password: r.str("smtp_mailer.password"),
      fromEmail,
      fromName: r.str("smtp_mailer.from_name"),
      secure: r.bool("smtp_mailer.secure"),
      startTls: r.bool("smtp_mailer.start_tls"),
      timeout: r.duration("smtp_mailer.timeout", 100),
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
