// Service results → proto3 canonical JSON (contract §1): lowerCamelCase keys, int64 as strings, unset
// plain scalars and lists emitted, unset `optional` fields omitted.
import type { IssuedToken, LoginInfo, OAuthProviderStatusResult, TokenPair } from "../../services/api.ts";

export const jsonResponse = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });

const tokenJson = (t: IssuedToken | undefined) => ({
  token: t?.token ?? "",
  expiresAt: String(Math.trunc(t?.expiresAt ?? 0)),
});

export const tokenPairJson = (p: TokenPair) => ({
  accessToken: tokenJson(p.accessToken),
  refreshToken: tokenJson(p.refreshToken),
  tokenType: p.tokenType ?? "",
});

export const tokenResponseJson = (r: { token: TokenPair }) => ({ token: tokenPairJson(r.token) });

export const oauthLoginJson = (r: { token: TokenPair; username: string; avatarUrl: string; email: string }) => ({
  token: tokenPairJson(r.token),
  username: r.username ?? "",
  avatarUrl: r.avatarUrl ?? "",
  email: r.email ?? "",
});

export const oauthBindJson = (r: { token: TokenPair; username: string; avatarUrl: string }) => ({
  token: tokenPairJson(r.token),
  username: r.username ?? "",
  avatarUrl: r.avatarUrl ?? "",
});

export const providersJson = (r: { providers: OAuthProviderStatusResult[] }) => ({
  providers: (r.providers ?? []).map((p) => ({
    name: p.name ?? "",
    enabled: p.enabled ?? false,
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
  })),
});

export const loginInfoJson = (r: LoginInfo) => ({
  userId: r.userId ?? "",
  email: r.email ?? "",
  ...(r.githubId !== undefined ? { githubId: r.githubId } : {}),
  passwordEnabled: r.passwordEnabled ?? false,
  oauthConnections: (r.oauthConnections ?? []).map((c) => ({
    provider: c.provider ?? "",
    providerUserId: c.providerUserId ?? "",
  })),
});
