// A fake GitHub on 127.0.0.1 (Bun.serve, port 0) that speaks the real endpoints the OAuth flow uses:
//   GET  /login/oauth/authorize    → 302 to redirect_uri?code=..&state=.. (the user is chosen by ?login=)
//   POST /login/oauth/access_token → JSON or form answer, like GitHub (errors are 200 + {"error": ...})
//   GET  /user, GET /user/emails   → Bearer/token auth, 401 {"message":"Bad credentials"} otherwise
import { randomBytes } from "node:crypto";

export interface FakeGitHubEmail {
  email: string;
  verified: boolean;
  primary: boolean;
  visibility?: "public" | "private" | null;
}

export interface FakeGitHubUser {
  id: number;
  login: string;
  avatarUrl?: string;
  publicEmail?: string | null;
  emails: FakeGitHubEmail[];
}

export interface FakeGitHubBehavior {
  /** Force the token answer's format regardless of Accept. */
  tokenFormat?: "json" | "form";
  /** Make every token exchange fail this way. */
  tokenError?: "bad_verification_code" | 401 | 500;
  userStatus?: 200 | 401 | 403 | 500;
  emailsStatus?: 200 | 401 | 403 | 404 | 500;
  /** Answer /user with this JSON instead of the user (shape tests). */
  userBody?: unknown;
  /** Answer /user/emails with this JSON instead of the list (shape tests). */
  emailsBody?: unknown;
  /** Delay before answering token and API requests (not the authorize redirect). */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export interface FakeGitHub {
  baseUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  addUser(user: FakeGitHubUser): void;
  /** Walks the authorize redirect as the browser would and returns what lands on redirect_uri. */
  authorize(login: string, state: string, redirectUri: string): Promise<{ code: string; state: string }>;
  /** Issues an access token for a user directly (for profile tests that skip the exchange). */
  issueToken(login: string): string;
  /** Merges into the current behaviour; pass `{}` to `resetBehavior` to clear. */
  setBehavior(behavior: FakeGitHubBehavior): void;
  resetBehavior(): void;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export interface FakeGitHubOptions {
  clientId?: string;
  clientSecret?: string;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });

const form = (fields: Record<string, string>): Response =>
  new Response(new URLSearchParams(fields).toString(), {
    status: 200,
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
  });

const DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const token = (prefix: string): string => `${prefix}_${randomBytes(18).toString("hex")}`;

export const startFakeGitHub = async (options: FakeGitHubOptions = {}): Promise<FakeGitHub> => {
  const clientId = options.clientId ?? "fake-client-id";
  const clientSecret = options.clientSecret ?? "fake-client-secret";
  const users = new Map<string, FakeGitHubUser>();
  const codes = new Map<string, { login: string; clientId: string; redirectUri: string | null; scope: string }>();
  const tokens = new Map<string, { login: string; scope: string }>();
  const requests: RecordedRequest[] = [];
  let behavior: FakeGitHubBehavior = {};

  const tokenError = (error: string, description: string, wantsJson: boolean): Response => {
    const fields = { error, error_description: description, error_uri: `${DOCS}#${error.replace(/_/g, "-")}` };
    return wantsJson ? json(fields) : form(fields);
  };

  const readParams = async (req: Request, url: URL): Promise<URLSearchParams> => {
    const params = new URLSearchParams(url.searchParams);
    const text = await req.text();
    const type = req.headers.get("content-type") ?? "";
    if (type.includes("application/json")) {
      const body = JSON.parse(text || "{}") as Record<string, unknown>;
      for (const [k, v] of Object.entries(body)) if (typeof v === "string") params.set(k, v);
    } else if (text) {
      for (const [k, v] of new URLSearchParams(text)) params.set(k, v);
    }
    return params;
  };

  const handleAuthorize = (url: URL): Response => {
    const q = url.searchParams;
    if (q.get("client_id") !== clientId) return new Response("Not Found", { status: 404 });
    const redirectUri = q.get("redirect_uri");
    const login = q.get("login") ?? "";
    if (!redirectUri || !users.has(login)) return new Response("unknown user or redirect", { status: 400 });
    const code = randomBytes(10).toString("hex");
    codes.set(code, { login, clientId, redirectUri, scope: q.get("scope") ?? "" });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    const state = q.get("state");
    if (state !== null) target.searchParams.set("state", state);
    return new Response(null, { status: 302, headers: { location: target.toString() } });
  };

  const handleToken = async (params: URLSearchParams, req: Request): Promise<Response> => {
    const accept = req.headers.get("accept") ?? "";
    const wantsJson = behavior.tokenFormat ? behavior.tokenFormat === "json" : accept.includes("json");
    if (behavior.tokenError === 500) return json({ message: "Internal Server Error" }, 500);
    if (behavior.tokenError === 401) return json({ message: "Unauthorized" }, 401);
    if (params.get("client_id") !== clientId || params.get("client_secret") !== clientSecret) {
      return tokenError(
        "incorrect_client_credentials",
        "The client_id and/or client_secret passed are incorrect.",
        wantsJson,
      );
    }
    const code = params.get("code") ?? "";
    const grant = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (behavior.tokenError === "bad_verification_code" || !grant || grant.clientId !== clientId) {
      return tokenError("bad_verification_code", "The code passed is incorrect or expired.", wantsJson);
    }
    const redirectUri = params.get("redirect_uri");
    if (redirectUri !== null && redirectUri !== grant.redirectUri) {
      return tokenError(
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
        wantsJson,
      );
    }
    const accessToken = token("gho");
    tokens.set(accessToken, { login: grant.login, scope: grant.scope });
    const fields = { access_token: accessToken, token_type: "bearer", scope: grant.scope.replace(/ /g, ",") };
    return wantsJson ? json(fields) : form(fields);
  };

  const authenticated = (req: Request): FakeGitHubUser | null => {
    const m = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
    const grant = m?.[1] ? tokens.get(m[1]) : undefined;
    return grant ? (users.get(grant.login) ?? null) : null;
  };

  const badCredentials = (): Response =>
    json({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" }, 401);

  const handleUser = (req: Request): Response => {
    const user = authenticated(req);
    if (behavior.userStatus === 500) return json({ message: "Server Error" }, 500);
    if (behavior.userStatus === 401 || !user) return badCredentials();
    if (behavior.userStatus === 403) return json({ message: "Forbidden" }, 403);
    if (behavior.userBody !== undefined) return json(behavior.userBody);
    return json({
      login: user.login,
      id: user.id,
      node_id: `U_${user.id}`,
      avatar_url: user.avatarUrl ?? `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      html_url: `https://github.com/${user.login}`,
      type: "User",
      site_admin: false,
      name: null,
      email: user.publicEmail ?? null,
    });
  };

  const handleEmails = (req: Request): Response => {
    const user = authenticated(req);
    const s = behavior.emailsStatus;
    if (s === 500) return json({ message: "Server Error" }, 500);
    if (s === 401 || !user) return badCredentials();
    if (s === 403) return json({ message: "Resource not accessible by integration", status: "403" }, 403);
    if (s === 404) return json({ message: "Not Found", status: "404" }, 404);
    if (behavior.emailsBody !== undefined) return json(behavior.emailsBody);
    return json(user.emails.map((e) => ({ visibility: null, ...e })));
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const isToken = req.method === "POST" && url.pathname === "/login/oauth/access_token";
      const params = isToken ? await readParams(req, url) : null;
      requests.push({
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(req.headers),
        body: params ? params.toString() : "",
      });
      if (req.method === "GET" && url.pathname === "/login/oauth/authorize") return handleAuthorize(url);
      if (behavior.delayMs) await sleep(behavior.delayMs);
      if (params) return handleToken(params, req);
      if (req.method === "GET" && url.pathname === "/user") return handleUser(req);
      if (req.method === "GET" && url.pathname === "/user/emails") return handleEmails(req);
      return json({ message: "Not Found" }, 404);
    },
  });

  const baseUrl = `http://127.0.0.1:${server.port}`;

  const authorize = async (
    login: string,
    state: string,
    redirectUri: string,
  ): Promise<{ code: string; state: string }> => {
    const url = new URL("/login/oauth/authorize", baseUrl);
    url.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      state,
      login,
      scope: "read:user user:email",
    }).toString();
    const res = await fetch(url, { redirect: "manual" });
    await res.body?.cancel();
    const location = res.headers.get("location");
    if (res.status !== 302 || !location) throw new Error(`fake github: authorize answered ${res.status}`);
    const back = new URL(location);
    return { code: back.searchParams.get("code") ?? "", state: back.searchParams.get("state") ?? "" };
  };

  return {
    baseUrl,
    authorizeUrl: `${baseUrl}/login/oauth/authorize`,
    tokenUrl: `${baseUrl}/login/oauth/access_token`,
    apiUrl: baseUrl,
    clientId,
    clientSecret,
    addUser(user) {
      users.set(user.login, user);
    },
    authorize,
    issueToken(login) {
      if (!users.has(login)) throw new Error(`fake github: no user ${login}`);
      const t = token("gho");
      tokens.set(t, { login, scope: "read:user,user:email" });
      return t;
    },
    setBehavior(next) {
      behavior = { ...behavior, ...next };
    },
    resetBehavior() {
      behavior = {};
    },
    requests,
    stop: async () => {
      await server.stop(true);
    },
  };
};

/** The server settings that point Identra's GitHub adapter at this fake. */
export const githubEnv = (fake: Pick<FakeGitHub, "clientId" | "clientSecret" | "authorizeUrl" | "tokenUrl" | "apiUrl">): Record<string, string> => ({
  IDENTRA_AUTH_GITHUB_CLIENT_ID: fake.clientId,
  IDENTRA_AUTH_GITHUB_CLIENT_SECRET: fake.clientSecret,
  IDENTRA_AUTH_GITHUB_AUTHORIZE_URL: fake.authorizeUrl,
  IDENTRA_AUTH_GITHUB_TOKEN_URL: fake.tokenUrl,
  IDENTRA_AUTH_GITHUB_API_URL: fake.apiUrl,
});
