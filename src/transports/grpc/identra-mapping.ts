// proto (snake_case, as proto-loader decodes with keepCase) ⇄ IdentraApi, one entry per RPC of
// identra.v1.IdentraService. int64 `expires_at` goes out as a string (longs: String); `optional`
// fields are set only when present. Proto3 makes "" and unset the same: both reach the service as unset.
import type { PublicJwk } from "../../domain/keys.ts";
import type { IdentraApi, IssuedToken, RequestContext, TokenPair } from "../../services/api.ts";

export type ProtoMessage = Record<string, unknown>;
export type RpcHandler = (api: IdentraApi, req: ProtoMessage, ctx: RequestContext) => Promise<ProtoMessage>;

const str = (req: ProtoMessage, name: string): string | undefined => {
  const v = req[name];
  return typeof v === "string" && v !== "" ? v : undefined;
};
const bool = (req: ProtoMessage, name: string): boolean | undefined => {
  const v = req[name];
  return typeof v === "boolean" ? v : undefined;
};
const optional = <T>(name: string, v: T | undefined): ProtoMessage => (v === undefined ? {} : { [name]: v });

const tokenProto = (t: IssuedToken) => ({ token: t.token, expires_at: String(Math.trunc(t.expiresAt)) });
const pairProto = (p: TokenPair) => ({
  access_token: tokenProto(p.accessToken),
  refresh_token: tokenProto(p.refreshToken),
  token_type: p.tokenType,
});
const jwkProto = (k: PublicJwk): ProtoMessage => ({
  kty: k.kty,
  alg: k.alg,
  use: k.use,
  kid: k.kid,
  ...optional("n", k.n),
  ...optional("e", k.e),
  ...optional("crv", k.crv),
  ...optional("x", k.x),
  ...optional("y", k.y),
});

/** Keyed by the proto method name (`/identra.v1.IdentraService/<name>`). */
export const IDENTRA_RPCS: Readonly<Record<string, RpcHandler>> = {
  GetJWKS: async (api) => ({ keys: (await api.getJwks()).keys.map(jwkProto) }),
  GetOAuthAuthorizationURL: async (api, req, ctx) =>
    api.getOAuthAuthorizationUrl({ provider: str(req, "provider"), redirectUrl: str(req, "redirect_url") }, ctx),
  LoginByOAuth: async (api, req, ctx) => {
    const r = await api.loginByOAuth({ code: str(req, "code"), state: str(req, "state") }, ctx);
    return { token: pairProto(r.token), username: r.username, avatar_url: r.avatarUrl, email: r.email };
  },
  BindUserByOAuth: async (api, req, ctx) => {
    const r = await api.bindUserByOAuth(
      { accessToken: str(req, "access_token"), code: str(req, "code"), state: str(req, "state") },
      ctx,
    );
    return { token: pairProto(r.token), username: r.username, avatar_url: r.avatarUrl };
  },
  SendLoginEmailCode: async (api, req, ctx) => {
    await api.sendLoginEmailCode({ email: str(req, "email"), useHtml: bool(req, "use_html") }, ctx);
    return {};
  },
  LoginByEmailCode: async (api, req, ctx) => {
    const r = await api.loginByEmailCode({ email: str(req, "email"), code: str(req, "code") }, ctx);
    return { token: pairProto(r.token) };
  },
  RegisterByPassword: async (api, req, ctx) => {
    const r = await api.registerByPassword({ email: str(req, "email"), password: str(req, "password") }, ctx);
    return { token: pairProto(r.token) };
  },
  LoginByPassword: async (api, req, ctx) => {
    const r = await api.loginByPassword({ email: str(req, "email"), password: str(req, "password") }, ctx);
    return { token: pairProto(r.token) };
  },
  RefreshToken: async (api, req, ctx) => {
    const r = await api.refreshToken({ refreshToken: str(req, "refresh_token") }, ctx);
    return { token: pairProto(r.token) };
  },
  RevokeRefreshToken: async (api, req, ctx) => {
    await api.revokeRefreshToken({ refreshToken: str(req, "refresh_token") }, ctx);
    return {};
  },
  ListOAuthProviders: async (api) => ({
    providers: (await api.listOAuthProviders()).providers.map((p) => ({
      name: p.name,
      enabled: p.enabled,
      ...optional("reason", p.reason),
    })),
  }),
  GetCurrentUserLoginInfo: async (api, req, ctx) => {
    const r = await api.getCurrentUserLoginInfo({ accessToken: str(req, "access_token") }, ctx);
    return {
      user_id: r.userId,
      email: r.email,
      ...optional("github_id", r.githubId),
      password_enabled: r.passwordEnabled,
      oauth_connections: r.oauthConnections.map((c) => ({ provider: c.provider, provider_user_id: c.providerUserId })),
    };
  },
};
