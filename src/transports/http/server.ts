// The REST transport: Bun.serve around the Elysia app. This outer layer owns what every response
// shares — request id, client IP, CORS, security headers, the access log — so no route can miss it.
import type { Server } from "bun";
import { AppError, isAppError } from "../../domain/errors.ts";
import { causeOf } from "../error-table.ts";
import { createRequestObserver, PROMETHEUS_CONTENT_TYPE, roundMs } from "../observe.ts";
import { createHttpApp } from "./app.ts";
import { createCorsPolicy } from "./cors.ts";
import { errorResponse } from "./error-response.ts";
import { createIpMatcher, resolveClientIp } from "./ip-cidr.ts";
import { createJwksEndpoint, jwksDocument, JWKS_PATH } from "./jwks-endpoint.ts";
import { createMetaStore, parseBearer, sanitizeRequestId, type AccessRecord, type RequestMeta } from "./request-meta.ts";
import { decorateResponse } from "./response-headers.ts";
import { createStaticHandler } from "./static-files.ts";
import type { TransportDeps, TransportServer } from "../transport-deps.ts";

export type HttpServerDeps = TransportDeps;
export type HttpServer = TransportServer;

const isApiPath = (p: string): boolean => p === "/api" || p.startsWith("/api/");

export const METRICS_PATH = "/metrics";

const CANONICAL_ORIGIN = "http://localhost";

const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * The common case without `new URL` (a per-request cost): `http://<plain host>/<path>` whose path
 * needs no normalisation (no `%`, no dot segments) and whose "/" is where Elysia looks for it.
 * Anything else returns null and takes the general path below.
 */
export const plainPath = (raw: string): string | null => {
  if (!raw.startsWith("http://")) return null;
  const slash = raw.indexOf("/", 7);
  if (slash < 11 || !PLAIN_HOST.test(raw.slice(7, slash))) return null;
  let end = raw.indexOf("?", slash);
  if (end < 0) end = raw.length;
  const hash = raw.indexOf("#", slash);
  if (hash >= 0 && hash < end) end = hash;
  const path = raw.slice(slash, end);
  return PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) ? path : null;
};

/**
 * The request's URL, and a request Elysia can route. Two Host headers broke routing (found by the
 * fuzzer): one Bun cannot turn into an absolute URL ("", "a b", "x/y", "a@b" — `request.url` is then
 * relative and `new URL` threw: a 500), and a short one ("x", "idp"): Elysia looks for the path's "/"
 * from index 11 of the URL, so every route answered 404. Both are re-addressed to a canonical origin
 * with the same path and query; the Host plays no part in routing here.
 */
export const addressable = (request: Request): { request: Request; pathname: string } => {
  const raw = request.url;
  const fast = plainPath(raw);
  if (fast !== null) return { request, pathname: fast };
  try {
    const url = new URL(raw);
    if (raw.indexOf("/", 11) === url.origin.length && raw.startsWith(url.origin)) return { request, pathname: url.pathname };
  } catch {
    // relative or unparsable: rebuilt below
  }
  const rest = raw.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, "");
  const url = new URL(CANONICAL_ORIGIN + (rest.startsWith("/") ? rest : `/${rest}`));
  try {
    return { request: new Request(url.href, request), pathname: url.pathname };
  } catch {
    // e.g. a method the Fetch API forbids (TRACE, CONNECT) with such a Host.
    throw new AppError("INVALID_ARGUMENT", "malformed request");
  }
};

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const metricMethod = (m: string): string => (KNOWN_METHODS.has(m) ? m : "OTHER");

export const createHttpServer = (deps: HttpServerDeps): HttpServer => {
  const { api, health, config, logger, newRequestId, metrics } = deps;
  const observe = createRequestObserver(metrics);
  const now = deps.monotonicNow ?? (() => performance.now());
  const meta = createMetaStore();
  const app = createHttpApp({ api, health, meta, maxBodyBytes: config.http.maxBodyBytes });
  const cors = createCorsPolicy(config.cors);
  // No allowed origins: no CORS headers at all, so the Origin header is not even read.
  const corsEnabled = config.cors.allowedOrigins.length > 0;
  const isTrusted = createIpMatcher(config.http.trustedProxies);
  const metricsAllowed = createIpMatcher(config.http.metricsAllowedCidrs);
  const serveStatic = config.http.staticDir ? createStaticHandler(config.http.staticDir) : null;
  let server: Server<undefined> | null = null;
  /** The socket peer (never a forwarded address): /metrics is granted by where the connection comes from. */
  const peerOf = (request: Request): string => server?.requestIP(request)?.address ?? "";

  // Peers repeat (keep-alive, a load balancer): their parsed form is cached, and forwarding headers
  // are read only when the peer is a trusted proxy.
  const peers = new Map<string, string | null>();
  const clientIpOf = (request: Request, srv: Server<undefined>): string => {
    const peer = srv.requestIP(request)?.address ?? "";
    let resolved = peers.get(peer);
    if (resolved === undefined) {
      const direct = resolveClientIp({ peer, forwardedFor: null, realIp: null, isTrusted });
      resolved = isTrusted(direct) ? null : direct; // null: trusted, look at the headers
      if (peers.size >= 10_000) peers.clear();
      peers.set(peer, resolved);
    }
    if (resolved !== null) return resolved;
    const h = (name: string) => request.headers.get(name);
    return resolveClientIp({ peer, forwardedFor: h("x-forwarded-for"), realIp: h("x-real-ip"), isTrusted });
  };

  /** The access-log line and metrics of one request (and the log of a failure behind its answer). */
  const record = (r: AccessRecord): void => {
    if (r.error !== undefined && !isAppError(r.error)) {
      const e = r.error;
      logger.error("unhandled error", { requestId: r.requestId, error: e instanceof Error ? e.stack ?? e.message : String(e) });
    } else if (isAppError(r.error) && r.error.reason === "DEPENDENCY_UNAVAILABLE") {
      logger.warn("dependency unavailable", { requestId: r.requestId, error: r.error.message, cause: causeOf(r.error) });
    }
    // The label is the matched pattern or a fixed name, never the raw path (callers could mint series,
    // and a raw path may carry anything a caller typed, even a token).
    const route = r.route || "(unmatched)";
    observe.http(metricMethod(r.method), route, r.status, r.durationMs);
    logger.info("http request", {
      method: r.method,
      route,
      status: r.status,
      durationMs: roundMs(r.durationMs),
      requestId: r.requestId,
      email: r.email, // absent unless known; dropped unless log.level=debug
    });
  };

  // CORS answers depend on the Origin: a static document cannot carry them.
  const nativeJwks = !config.log.jwksRequests && !corsEnabled;
  const jwksEndpoint = createJwksEndpoint({
    jwks: () => api.getJwks(),
    newRequestId,
    corsFor: corsEnabled ? (origin) => cors.headersFor(origin) : null,
    now,
    record,
  });

  const route = async (original: Request, m: RequestMeta): Promise<Response> => {
    const { request, pathname } = addressable(original);
    if (request.method === "OPTIONS") {
      m.route = "(preflight)";
      return cors.preflight(request.headers.get("origin"));
    }
    if (metrics && pathname === METRICS_PATH && (request.method === "GET" || request.method === "HEAD") && metricsAllowed(peerOf(original))) {
      m.route = METRICS_PATH;
      return new Response(request.method === "HEAD" ? null : metrics.registry.render(), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      });
    }
    // Only requests that reach the router need their facts found by identity.
    meta.set(request, m);
    const res = await app.handle(request);
    if (m.unmatched && serveStatic && (request.method === "GET" || request.method === "HEAD") && !isApiPath(pathname)) {
      const file = await serveStatic(pathname);
      if (file) {
        m.route = "(static)";
        return file;
      }
    }
    return res;
  };

  const fetch = async (request: Request, srv: Server<undefined>): Promise<Response> => {
    const started = now();
    const h = (name: string) => request.headers.get(name);
    // Client IP and bearer token are resolved on first use: most answers (JWKS, docs) need neither.
    let clientIp: string | undefined;
    let bearer: string | null | undefined;
    const m: RequestMeta = {
      requestId: sanitizeRequestId(h("x-request-id")) ?? newRequestId(),
      get clientIp() {
        return (clientIp ??= clientIpOf(request, srv));
      },
      get bearerToken() {
        return bearer === undefined ? (bearer = parseBearer(h("authorization"))) : bearer;
      },
      route: "",
      unmatched: false,
    };
    let res: Response;
    try {
      res = await route(request, m);
    } catch (err) {
      m.error = err;
      res = errorResponse(err);
    }
    res = decorateResponse(res, {
      requestId: m.requestId,
      cors: request.method === "OPTIONS" || !corsEnabled ? NO_HEADERS : cors.headersFor(h("origin")),
      noStore: m.route !== "(static)",
    });
    record({ method: request.method, route: m.route, status: res.status, durationMs: now() - started, requestId: m.requestId, email: m.email, error: m.error });
    return res;
  };

  // Bun's own router answers the hottest path before `fetch` (GET, and HEAD from it). The native
  // document is rebuilt when the key ring changes (a rotation here, or one another replica made and
  // this one re-read).
  const handlers = () => ({
    routes: { [JWKS_PATH]: { GET: nativeJwks ? jwksDocument(api.getJwks()) : jwksEndpoint } },
    fetch,
    error: (err: Error) => errorResponse(err),
  });
  let unwatch: (() => void) | undefined;

  return {
    async start() {
      if (!server) {
        server = Bun.serve({ port: config.httpPort, hostname: config.host, ...handlers() });
        if (nativeJwks) {
          unwatch = api.onJwksChange(() => {
            try {
              server?.reload(handlers());
            } catch (e) {
              // The last document stays served; the next change tries again.
              logger.warn("could not update the served JWKS", { error: (e as Error).message });
            }
          });
        }
      }
      return { port: server.port ?? config.httpPort };
    },
    async stop(graceMs) {
      const s = server;
      if (!s) return;
      server = null;
      unwatch?.();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs))));
      await Promise.race([s.stop(false), grace]);
      clearTimeout(timer);
      await s.stop(true);
    },
  };
};
