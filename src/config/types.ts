import type { SigningAlgorithm } from "../domain/keys.ts";

/** The validated, frozen configuration (contract §7). Durations are milliseconds. */
export interface Config {
  grpcPort: number;
  httpPort: number;
  /** Address both servers bind; loopback-only deployments may set 127.0.0.1. */
  host: string;
  http: {
    trustedProxies: string[];
    staticDir: string;
    /** Largest accepted request body in bytes (REST and gRPC). */
    maxBodyBytes: number;
    /** Socket peers allowed to read /metrics; empty turns it off. */
    metricsAllowedCidrs: string[];
  };
  cors: { allowedOrigins: string[]; allowCredentials: boolean };
  log: {
    level: "debug" | "info" | "warn" | "error";
    format: "json" | "pretty";
    /** Access-log and count each JWKS request (else the server answers them natively, unlogged). */
    jwksRequests: boolean;
  };
  auth: {
    rsaPrivateKey: string;
    tokenIssuer: string;
    tokenAudience: string;
    signingAlgorithm: SigningAlgorithm;
    accessTokenExpiration: number;
    refreshTokenExpiration: number;
    refreshReuseInterval: number;
    oauthStateExpiration: number;
    keyRingRefreshInterval: number;
    emailCode: { ttl: number };
    password: {
      autoRegister: boolean;
      setOnFirstLogin: boolean;
      argon2: { memoryCost: number; timeCost: number; parallelism: number };
    };
    oauth: { allowedRedirectUrls: string[] };
    github: {
      clientId: string;
      clientSecret: string;
      authorizeUrl: string;
      tokenUrl: string;
      apiUrl: string;
      timeout: number;
    };
    rateLimit: {
      failedLogin: { max: number; window: number };
      codeSend: { max: number; window: number; cooldown: number };
    };
  };
  redis: { urls: string[]; password: string };
  persistence: {
    type: "sqlite" | "mongo";
    sqlite: { path: string };
    mongo: { uri: string; database: string };
  };
  smtpMailer: {
    host: string;
    port: number;
    username: string;
    password: string;
    fromEmail: string;
    fromName: string;
    secure: boolean;
    startTls: boolean;
    timeout: number;
  };
}
