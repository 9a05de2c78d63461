// GitHub as an OAuthProvider (identra-api.md §5). Every URL comes from config so tests can point it
// at a local fake. Errors: the provider rejecting the code → OAUTH_EXCHANGE_FAILED; rejecting the
// token or answering nonsense → OAUTH_PROFILE_FAILED; unreachable, 5xx or too slow →
// DEPENDENCY_UNAVAILABLE. No message or cause ever carries the client secret, the code or a token.
import { AppError, MESSAGES } from "../../domain/errors.ts";
import type { OAuthEmail, OAuthProfile, OAuthProvider } from "../../ports/oauth-provider.ts";
import { githubRequest, githubUnavailable, isRecord, parseJson } from "./http.ts";
import type { FetchLike, GitHubResponse } from "./http.ts";
import { parseGitHubEmails, parseGitHubUser } from "./profile.ts";
import type { GitHubUser } from "./profile.ts";

export interface GitHubProviderOptions {
  clientId: string;
  clientSecret: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  apiUrl?: string;
  scopes?: string;
  timeoutMs?: number;
  fetch?: FetchLike;
  userAgent?: string;
}

export const GITHUB_DEFAULTS = {
  authorizeUrl: "https://github.com/login/oauth/authorize",
  tokenUrl: "https://github.com/login/oauth/access_token",
  apiUrl: "https://api.github.com",
  scopes: "read:user user:email",
  timeoutMs: 10_000,
} as const;

const exchangeFailed = (detail: string): AppError =>
  new AppError("OAUTH_EXCHANGE_FAILED", MESSAGES.exchangeFailed, { cause: new Error(detail) });

const profileFailed = (detail: string): AppError =>
  new AppError("OAUTH_PROFILE_FAILED", MESSAGES.profileFailed, { cause: new Error(detail) });

/** GitHub error codes are snake_case words; anything else is not echoed into a cause. */
const safeErrorCode = (v: unknown): string => (typeof v === "string" && /^[a-z0-9_]{1,64}$/.test(v) ? v : "unknown");

/** Reads the token answer as JSON or as a form (`access_token=...&token_type=bearer`). */
const tokenFields = (res: GitHubResponse): Record<string, unknown> | null => {
  const type = (res.headers.get("content-type") ?? "").toLowerCase();
  if (type.includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(res.body));
  }
  const json = parseJson(res.body);
  if (isRecord(json)) return json;
  // Content type missing or mislabelled: a form body is still recognisable.
  if (!type.includes("json") && /^[\w.-]+=/.test(res.body)) return Object.fromEntries(new URLSearchParams(res.body));
  return null;
};

/** A rate-limited 403 is GitHub being unavailable to us, not the token being bad. */
const isRateLimited = (res: GitHubResponse): boolean =>
  res.status === 403 && res.headers.get("x-ratelimit-remaining") === "0";

export const createGitHubProvider = (options: GitHubProviderOptions): OAuthProvider => {
  const clientId = options.clientId.trim();
  const clientSecret = options.clientSecret.trim();
  const authorizeBase = options.authorizeUrl ?? GITHUB_DEFAULTS.authorizeUrl;
  const tokenUrl = options.tokenUrl ?? GITHUB_DEFAULTS.tokenUrl;
  const apiUrl = (options.apiUrl ?? GITHUB_DEFAULTS.apiUrl).replace(/\/+$/, "");
  const scopes = options.scopes ?? GITHUB_DEFAULTS.scopes;
  const timeoutMs = options.timeoutMs ?? GITHUB_DEFAULTS.timeoutMs;
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const userAgent = options.userAgent ?? "identra";

  const status: OAuthProvider["status"] = () => {
    if (!clientId) return { enabled: false, reason: "missing_client_id" };
    if (!clientSecret) return { enabled: false, reason: "missing_client_secret" };
    return { enabled: true };
  };

  const requireConfigured = (): void => {
    if (!status().enabled) throw new AppError("OAUTH_NOT_CONFIGURED", MESSAGES.githubNotConfigured);
  };

  const authorizeUrl = (state: string, redirectUrl: string): string => {
    const url = new URL(authorizeBase);
    url.searchParams.set("client_id", clientId);
    url.searchParams.set("redirect_uri", redirectUrl);
    url.searchParams.set("scope", scopes);
    url.searchParams.set("state", state);
    return url.toString();
  };

  const exchangeCode = async (code: string, redirectUrl: string | null): Promise<string> => {
    requireConfigured();
    if (!code) throw exchangeFailed("empty code");
    const form = new URLSearchParams({ client_id: clientId, client_secret: clientSecret, code });
    if (redirectUrl) form.set("redirect_uri", redirectUrl);
    const res = await githubRequest(
      fetchFn,
      tokenUrl,
      {
        method: "POST",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
          "User-Agent": userAgent,
        },
        body: form.toString(),
      },
      timeoutMs,
      "token exchange",
    );
    if (res.status < 200 || res.status >= 300) throw exchangeFailed(`token endpoint answered ${res.status}`);
    const fields = tokenFields(res);
    if (fields === null) throw exchangeFailed("token endpoint answered an unreadable body");
    if (fields.error !== undefined) throw exchangeFailed(`token endpoint error: ${safeErrorCode(fields.error)}`);
    const token = fields.access_token;
    if (typeof token !== "string" || token.length === 0) throw exchangeFailed("token endpoint gave no access_token");
    const tokenType = fields.token_type;
    if (tokenType !== undefined && (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer")) {
      throw exchangeFailed("token endpoint gave an unsupported token_type");
    }
    return token;
  };

  const apiGet = (path: string, accessToken: string): Promise<GitHubResponse> =>
    githubRequest(
      fetchFn,
      `${apiUrl}${path}`,
      {
        method: "GET",
        headers: {
          Authorization: `Bearer ${accessToken}`,
          Accept: "application/vnd.github+json",
          "User-Agent": userAgent,
          "X-GitHub-Api-Version": "2022-11-28",
        },
      },
      timeoutMs,
      `GET ${path}`,
    );

  const fetchUser = async (accessToken: string): Promise<GitHubUser> => {
    const res = await apiGet("/user", accessToken);
    if (isRateLimited(res)) throw githubUnavailable(new Error("GET /user: rate limited"));
    if (res.status !== 200) throw profileFailed(`GET /user answered ${res.status}`);
    const user = parseGitHubUser(parseJson(res.body));
    if (user === null) throw profileFailed("GET /user answered an unexpected shape");
    return user;
  };

  const fetchEmails = async (accessToken: string): Promise<OAuthEmail[]> => {
    const res = await apiGet("/user/emails", accessToken);
    if (isRateLimited(res)) throw githubUnavailable(new Error("GET /user/emails: rate limited"));
    // Without the user:email scope (or for some app types) the list is not readable: no emails.
    if (res.status === 403 || res.status === 404) return [];
    if (res.status !== 200) throw profileFailed(`GET /user/emails answered ${res.status}`);
    const emails = parseGitHubEmails(parseJson(res.body));
    if (emails === null) throw profileFailed("GET /user/emails answered an unexpected shape");
    return emails;
  };

  const fetchProfile = async (accessToken: string): Promise<OAuthProfile> => {
    if (!accessToken) throw profileFailed("empty access token");
    const [user, emails] = await Promise.allSettled([fetchUser(accessToken), fetchEmails(accessToken)]);
    // /user decides first: its failure is the more meaningful one.
    if (user.status === "rejected") throw user.reason;
    if (emails.status === "rejected") throw emails.reason;
    return { ...user.value, emails: emails.value };
  };

  return { name: "github", status, authorizeUrl, exchangeCode, fetchProfile };
};
