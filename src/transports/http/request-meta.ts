// Per-request facts the outer Bun.serve wrapper resolves once (request id, client IP, bearer token) and
// the Elysia routes read back by the Request object's identity. Also where routes record what the
// access log needs (matched route, the error behind a failure).
import type { RequestContext } from "../../services/api.ts";

export interface RequestMeta {
  requestId: string;
  readonly clientIp: string;
  readonly bearerToken: string | null;
  /** The matched route pattern, for the access log. */
  route: string;
  /** True when no route matched (the static SPA may still answer). */
  unmatched: boolean;
  /** The request's email, for the access log at debug level only (see observe.ts). */
  email?: string;
  /** The error behind a failure response, for the caller to log (never shown). */
  error?: unknown;
}

/** What the access log and the request metrics get for one answered request. */
export interface AccessRecord {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  requestId: string;
  email?: string;
  error?: unknown;
}

export interface MetaStore {
  set(request: Request, meta: RequestMeta): void;
  get(request: Request): RequestMeta;
  context(request: Request): RequestContext;
}

const FALLBACK: RequestMeta = { requestId: "", clientIp: "", bearerToken: null, route: "", unmatched: false };

export const createMetaStore = (): MetaStore => {
  const map = new WeakMap<Request, RequestMeta>();
  const get = (request: Request): RequestMeta => map.get(request) ?? { ...FALLBACK };
  return {
    set: (request, meta) => void map.set(request, meta),
    get,
    context: (request) => {
      const m = get(request);
      // Getters: the client IP and bearer token stay unresolved unless the use case reads them
      // (a refresh needs neither).
      return {
        get clientIp() {
          return m.clientIp;
        },
        get bearerToken() {
          return m.bearerToken;
        },
        requestId: m.requestId,
      };
    },
  };
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** An incoming request id when it is safe to echo and log, else null. */
export const sanitizeRequestId = (raw: string | null | undefined): string | null =>
  raw !== null && raw !== undefined && REQUEST_ID.test(raw) ? raw : null;

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), else null. */
export const parseBearer = (header: string | null | undefined): string | null => {
  if (!header) return null;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
};
