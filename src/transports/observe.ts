// What both transports record for every request: the Prometheus counters/histogram (when a metrics
// registry is given) and the one access-log line. Labels stay bounded: REST routes are the matched
// pattern (never the raw path), gRPC methods are the service's own method names.
import type { Metrics } from "../services/metrics.ts";

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

// A plausible address only (no whitespace, one @, bounded): a password typed into the email field
// must not end up in a debug log either.
const EMAIL_LIKE = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

/** The request's email for the access log (the logger drops it unless log.level=debug), else undefined. */
export const loggableEmail = (value: unknown): string | undefined =>
  typeof value === "string" && value.length <= 254 && EMAIL_LIKE.test(value.trim()) ? value.trim() : undefined;

interface Series {
  count: Record<string, string>;
  duration: Record<string, string>;
}

/** Series kept per observer; label values are bounded upstream, this only caps the memory. */
const MAX_SERIES = 10_000;

/**
 * Counts and times requests. REST series are labelled {transport, method, route} (+ code on the
 * counter), gRPC ones {transport, method}. Each series' frozen label objects are made once and found
 * again through nested maps, so a request builds no string and no object (the registry caches by
 * the objects' identity).
 */
export const createRequestObserver = (metrics: Metrics | undefined) => {
  const cache = new Map<string, Map<string, Map<string, Series>>>();
  let size = 0;
  const seriesFor = (transport: "http" | "grpc", route: string | null, method: string, code: string): Series => {
    const group = transport === "http" ? `http\u0001${route}` : "grpc";
    let byMethod = cache.get(group);
    if (!byMethod) cache.set(group, (byMethod = new Map()));
    let byCode = byMethod.get(method);
    if (!byCode) byMethod.set(method, (byCode = new Map()));
    let s = byCode.get(code);
    if (!s) {
      const labels: Record<string, string> = route === null ? { method } : { method, route };
      s = { count: Object.freeze({ transport, ...labels, code }), duration: Object.freeze({ transport, ...labels }) };
      if (size < MAX_SERIES) {
        byCode.set(code, s);
        size += 1;
      }
    }
    return s;
  };
  const record = (s: Series, durationMs: number): void => {
    metrics!.requests.inc(s.count);
    metrics!.requestDuration.observe(s.duration, durationMs / 1000);
  };
  return {
    /** A REST request: method (bounded by the caller), matched route pattern, HTTP status. */
    http(method: string, route: string, status: number, durationMs: number): void {
      if (metrics) record(seriesFor("http", route, method, statusText(status)), durationMs);
    },
    /** A gRPC call: full method name, status code name. */
    grpc(method: string, code: string, durationMs: number): void {
      if (metrics) record(seriesFor("grpc", null, method, code), durationMs);
    },
  };
};

const STATUS_TEXT: string[] = [];
const statusText = (status: number): string => (STATUS_TEXT[status] ??= String(status));

export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;
