// GetJWKS: GET (and HEAD) /api/.well-known/jwks.json, answered in one of two ways, both from Bun's
// native router ahead of the general path (URL parsing, the Elysia router, a promise, headers set one
// by one) — so there is no Elysia route for it:
// - natively (`jwksDocument`, the default): one prebuilt Response per ring version that Bun serves
//   itself, ETag/If-None-Match and HEAD included, with no JavaScript per request — and so with no
//   access-log line, request metrics or request id;
// - by JavaScript (`createJwksEndpoint`, with `log.jwks_requests = true` or when CORS is on, whose
//   headers depend on the Origin): the same answer, decorated (request id, CORS) and recorded like
//   every other request.
import type { JwksResult } from "../../services/api.ts";
import { errorResponse } from "./error-response.ts";
import { sanitizeRequestId, type AccessRecord } from "./request-meta.ts";
import { applyCors, decorateResponse, SECURITY_HEADERS } from "./response-headers.ts";

export const JWKS_PATH = "/api/.well-known/jwks.json";
export const JWKS_CACHE_CONTROL = "public, max-age=3600";
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

const opaque = (tag: string): string => {
  const t = tag.trim();
  return t.startsWith("W/") ? t.slice(2) : t;
};

/** If-None-Match (a list, `*`, weak or strong tags: weak comparison, RFC 9110 §13.1.2) against our ETag. */
export const etagMatches = (header: string | null, etag: string): boolean => {
  if (header === null) return false;
  const ours = opaque(etag);
  return header.split(",").some((t) => t.trim() === "*" || opaque(t) === ours);
};

export interface JwksEndpointDeps {
  /** The ring's current document (the same object until the ring changes). */
  jwks: () => JwksResult;
  newRequestId: () => string;
  /** CORS headers for an Origin, or null when CORS is off (the Origin is then not read). */
  corsFor: ((origin: string | null) => Record<string, string>) | null;
  now: () => number;
  record: (r: AccessRecord) => void;
}

const NO_CORS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The headers of a JWKS answer (without the body's content type for a 304). */
const documentHeaders = (jwks: JwksResult): Record<string, string> => ({
  ...SECURITY_HEADERS,
  etag: jwks.etag,
  "cache-control": JWKS_CACHE_CONTROL,
});

/** The document as a static Response for Bun's router (it answers 304 to a matching If-None-Match). */
export const jwksDocument = (jwks: JwksResult): Response =>
  new Response(jwks.body, { headers: { ...documentHeaders(jwks), "content-type": JSON_CONTENT_TYPE } });

export const createJwksEndpoint = (deps: JwksEndpointDeps): ((request: Request) => Response) => {
  // Headers are built once per ring version; a Response copies them (cheaper than a plain object),
  // and only the request id (and CORS) is added per request.
  let current: JwksResult | undefined;
  let ok = new Headers();
  let notModified = new Headers();
  const refresh = (jwks: JwksResult): void => {
    const common = documentHeaders(jwks);
    notModified = new Headers(common);
    ok = new Headers({ ...common, "content-type": JSON_CONTENT_TYPE });
    current = jwks;
  };
  const answer = (request: Request): Response => {
    const jwks = deps.jwks();
    if (jwks !== current) refresh(jwks);
    return etagMatches(request.headers.get("if-none-match"), jwks.etag)
      ? new Response(null, { status: 304, headers: notModified })
      : new Response(jwks.body, { headers: ok });
  };
  return (request) => {
    const started = deps.now();
    const h = request.headers;
    const requestId = sanitizeRequestId(h.get("x-request-id")) ?? deps.newRequestId();
    const cors = deps.corsFor ? deps.corsFor(h.get("origin")) : NO_CORS;
    let res: Response;
    let error: unknown;
    try {
      res = answer(request);
      res.headers.set("x-request-id", requestId);
      applyCors(res.headers, cors);
    } catch (err) {
      // Not expected (the document is in memory), but answered and logged like any other failure.
      error = err;
      res = decorateResponse(errorResponse(err), { requestId, cors, noStore: true });
    }
    deps.record({ method: request.method, route: JWKS_PATH, status: res.status, durationMs: deps.now() - started, requestId, error });
    return res;
  };
};
