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

export interface RequestRecord {
  transport: "http" | "grpc";
  /** Bounded labels identifying what was called (`route` + `method` for REST, `method` for gRPC). */
  labels: Record<string, string>;
  /** HTTP status or gRPC code name. */
  code: string;
  durationMs: number;
}

export const createRequestObserver = (metrics: Metrics | undefined) => {
  // One frozen labels object per series, reused on every request (the registry caches by identity).
  const series = new Map<string, { count: Record<string, string>; duration: Record<string, string> }>();
  const MAX_SERIES = 10_000;
  return (r: RequestRecord): void => {
    if (!metrics) return;
    let key = r.transport;
    for (const k in r.labels) key += `\u0001${r.labels[k]}`;
    key += `\u0001${r.code}`;
    let s = series.get(key);
    if (!s) {
      s = { count: Object.freeze({ transport: r.transport, ...r.labels, code: r.code }), duration: Object.freeze({ transport: r.transport, ...r.labels }) };
      if (series.size < MAX_SERIES) series.set(key, s);
    }
    metrics.requests.inc(s.count);
    metrics.requestDuration.observe(s.duration, r.durationMs / 1000);
  };
};

export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;
