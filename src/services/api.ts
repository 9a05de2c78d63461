// What the transports call. Plain data in and out (camelCase, numbers as numbers); the transports
// own the wire mapping (proto field names, canonical JSON, int64 as string).
import type { PublicJwk } from "../domain/keys.ts";

export interface RequestContext {
  /** Client IP as resolved by the transport (socket peer, or forwarded header from a trusted proxy). */
  clientIp: string;
  /** Token from `Authorization: Bearer` (HTTP header or gRPC metadata), or null. */
  bearerToken: string | null;
  requestId: string;
}

export interface IssuedToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface TokenPair {
  accessToken: IssuedToken;
  refreshToken: IssuedToken;
  tokenType: "Bearer";
}

export interface JwksResult {
  keys: PublicJwk[];
  /** Pre-serialised `{"keys":[...]}` and its strong ETag, recomputed only when the ring changes. */
  body: string;
  etag: string;
}

export interface OAuthProviderStatusResult {
  name: string;
  enabled: boolean;
  reason?: string;
}

export interface LoginInfo {
  userId: string;
  email: string;
  githubId?: string;
  passwordEnabled: boolean;
  oauthConnections: { provider: string; providerUserId: string }[];
}

/** Every field of a request is optional at this boundary: the service validates and names what is missing. */
export interface IdentraApi {
  /** The ring's current document: in memory, so answered without waiting (the hottest read). */
  getJwks(): JwksResult;
  /** Calls `listener` whenever the JWKS document changes (a rotation, a re-read ring); returns the unsubscribe. */
  onJwksChange(listener: () => void): () => void;
  getOAuthAuthorizationUrl(
    req: { provider?: string; redirectUrl?: string },
    ctx: RequestContext,
  ): Promise<{ url: string; state: string }>;
  loginByOAuth(
    req: { code?: string; state?: string },
    ctx: RequestContext,
  ): Promise<{ token: TokenPair; username: string; avatarUrl: string; email: string }>;
  bindUserByOAuth(
    req: { accessToken?: string; code?: string; state?: string },
    ctx: RequestContext,
  ): Promise<{ token: TokenPair; username: string; avatarUrl: string }>;
  sendLoginEmailCode(req: { email?: string; useHtml?: boolean }, ctx: RequestContext): Promise<void>;
  loginByEmailCode(req: { email?: string; code?: string }, ctx: RequestContext): Promise<{ token: TokenPair }>;
  registerByPassword(req: { email?: string; password?: string }, ctx: RequestContext): Promise<{ token: TokenPair }>;
  loginByPassword(req: { email?: string; password?: string }, ctx: RequestContext): Promise<{ token: TokenPair }>;
  refreshToken(req: { refreshToken?: string }, ctx: RequestContext): Promise<{ token: TokenPair }>;
  revokeRefreshToken(req: { refreshToken?: string }, ctx: RequestContext): Promise<void>;
  listOAuthProviders(): Promise<{ providers: OAuthProviderStatusResult[] }>;
  getCurrentUserLoginInfo(req: { accessToken?: string }, ctx: RequestContext): Promise<LoginInfo>;
}

/** Readiness of the dependencies, for /readyz and gRPC health. */
export interface HealthApi {
  ready(): Promise<{ ok: boolean; checks: Record<string, "ok" | "down"> }>;
}
