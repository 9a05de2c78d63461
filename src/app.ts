// Composition root: picks adapters from config and wires the service. Tests pass overrides
// (fixed clock, seeded random, fast hasher, fake GitHub URLs) instead of patching modules.
import type { Config } from "./config/types.ts";
import { createArgon2Hasher } from "./adapters/system/argon2-hasher.ts";
import { systemClock } from "./adapters/system/clock.ts";
import { createLogger } from "./adapters/system/logger.ts";
import { cryptoRandom } from "./adapters/system/random.ts";
import { createMemoryEphemeralStore } from "./adapters/memory/index.ts";
import { createRedisEphemeralStore } from "./adapters/redis/index.ts";
import { createSmtpMailer } from "./adapters/smtp/mailer.ts";
import { createGitHubProvider } from "./adapters/github/provider.ts";
import type { EphemeralStore } from "./ports/ephemeral-store.ts";
import type { Mailer } from "./ports/mailer.ts";
import type { OAuthProvider } from "./ports/oauth-provider.ts";
import type { Clock, Logger, PasswordHasher, Random } from "./ports/system.ts";
import type { HealthApi, IdentraApi } from "./services/api.ts";
import { createIdentraService } from "./services/identra-service.ts";
import { createKeyRing, type KeyRing } from "./services/key-ring.ts";
import { createMetrics, type Metrics } from "./services/metrics.ts";
import { openStores, type Stores } from "./stores.ts";

export interface AppOverrides {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  hasher?: PasswordHasher;
  mailer?: Mailer | null;
  github?: OAuthProvider;
  ephemeral?: EphemeralStore;
  stores?: Stores;
}

export interface App {
  config: Config;
  api: IdentraApi;
  health: HealthApi;
  keyRing: KeyRing;
  stores: Stores;
  ephemeral: EphemeralStore;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  random: Random;
  close(): Promise<void>;
}

export function createAppLogger(config: Config, clock: Clock = systemClock): Logger {
  return createLogger({ level: config.log.level, format: config.log.format, now: () => clock.now() });
}

function createEphemeral(config: Config, clock: Clock, logger: Logger): EphemeralStore {
  if (config.redis.urls.length > 0) {
    return createRedisEphemeralStore({ urls: config.redis.urls, password: config.redis.password || undefined, keyPrefix: "identra:" });
  }
  logger.warn("redis.urls is empty: codes, OAuth states and rate limits live in this process only; replicas need Redis");
  return createMemoryEphemeralStore(clock);
}

function createMailer(config: Config): Mailer | null {
  const m = config.smtpMailer;
  if (!m.host) return null;
  return createSmtpMailer({
    host: m.host,
    port: m.port,
    username: m.username || undefined,
    password: m.password || undefined,
    fromEmail: m.fromEmail,
    fromName: m.fromName,
    secure: m.secure,
    startTls: m.startTls,
    connectTimeoutMs: m.timeout,
    sendTimeoutMs: m.timeout,
    pool: true,
  });
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  const logger = overrides.logger ?? createAppLogger(config, clock);
  const metrics = createMetrics();
  const stores = overrides.stores ?? (await openStores(config));
  const ephemeral = overrides.ephemeral ?? createEphemeral(config, clock, logger);
  const mailer = overrides.mailer !== undefined ? overrides.mailer : createMailer(config);
  const gh = config.auth.github;
  const github = overrides.github ?? createGitHubProvider({ clientId: gh.clientId, clientSecret: gh.clientSecret, authorizeUrl: gh.authorizeUrl, tokenUrl: gh.tokenUrl, apiUrl: gh.apiUrl, timeoutMs: gh.timeout });
  const hasher = overrides.hasher ?? createArgon2Hasher(config.auth.password.argon2);

  const keyRing = createKeyRing({ store: stores.keys, clock, logger, algorithm: config.auth.signingAlgorithm, configuredPem: config.auth.rsaPrivateKey });
  try {
    await keyRing.init();
  } catch (e) {
    await stores.close();
    await ephemeral.close();
    throw e;
  }
  keyRing.startAutoRefresh(config.auth.keyRingRefreshInterval);

  const a = config.auth;
  const service = createIdentraService({
    users: stores.users,
    families: stores.families,
    ephemeral,
    keyRing,
    hasher,
    mailer,
    github,
    clock,
    random,
    logger,
    metrics,
    settings: {
      issuer: a.tokenIssuer,
      audience: a.tokenAudience,
      accessTtlMs: a.accessTokenExpiration,
      refreshTtlMs: a.refreshTokenExpiration,
      reuseIntervalMs: a.refreshReuseInterval,
      oauthStateTtlMs: a.oauthStateExpiration,
      emailCodeTtlMs: a.emailCode.ttl,
      autoRegister: a.password.autoRegister,
      setOnFirstLogin: a.password.setOnFirstLogin,
      allowedRedirectUrls: a.oauth.allowedRedirectUrls,
      rateLimits: a.rateLimit,
    },
  });

  const probe = async (check: () => Promise<unknown>) => {
    try {
      await check();
      return "ok" as const;
    } catch {
      return "down" as const;
    }
  };
  const health: HealthApi = {
    async ready() {
      const checks: Record<string, "ok" | "down"> = { database: await probe(() => stores.users.ping()) };
      if (ephemeral.kind === "redis") checks.redis = await probe(() => ephemeral.ping());
      return { ok: Object.values(checks).every((c) => c === "ok"), checks };
    },
  };

  return {
    config,
    api: service,
    health,
    keyRing,
    stores,
    ephemeral,
    metrics,
    logger,
    clock,
    random,
    async close() {
      keyRing.stop();
      await Promise.allSettled([stores.close(), ephemeral.close(), mailer?.close()]);
    },
  };
}
