// A small Prometheus registry: labelled counters and histograms rendered in the text format.
// Kept in-process (each replica exposes its own /metrics; Prometheus sums across replicas).

type Labels = Record<string, string>;

const formatLabels = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");

// Formatting (sort + escape) runs on every request otherwise; label sets are few and repeat.
const formatted = new Map<string, string>();
const MAX_CACHED_LABEL_SETS = 10_000;

// Callers that reuse one labels object per series (the request observer does) skip even that.
const byIdentity = new WeakMap<Labels, string>();

const labelKey = (labels: Labels): string => {
  const known = byIdentity.get(labels);
  if (known !== undefined) return known;
  let raw = "";
  for (const k in labels) raw += `${k}\u0001${labels[k]}\u0002`;
  let key = formatted.get(raw);
  if (key === undefined) {
    key = formatLabels(labels);
    if (formatted.size < MAX_CACHED_LABEL_SETS) formatted.set(raw, key);
  }
  if (Object.isFrozen(labels)) byIdentity.set(labels, key);
  return key;
};

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(labels: Labels, seconds: number): void;
}

export interface MetricsRegistry {
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, buckets?: number[]): Histogram;
  render(): string;
}

export function createMetricsRegistry(): MetricsRegistry {
  const blocks: (() => string)[] = [];
  return {
    counter(name, help) {
      const values = new Map<string, number>();
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
        for (const [k, v] of values) lines.push(`${name}${k ? `{${k}}` : ""} ${v}`);
        return lines.join("\n");
      });
      return {
        inc(labels = {}, by = 1) {
          const k = labelKey(labels);
          values.set(k, (values.get(k) ?? 0) + by);
        },
      };
    },
    histogram(name, help, buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]) {
      const series = new Map<string, { counts: number[]; sum: number; count: number }>();
      blocks.push(() => {
        const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
        for (const [k, s] of series) {
          const sep = k ? "," : "";
          buckets.forEach((b, i) => lines.push(`${name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`));
          lines.push(`${name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
          lines.push(`${name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
          lines.push(`${name}_count${k ? `{${k}}` : ""} ${s.count}`);
        }
        return lines.join("\n");
      });
      return {
        observe(labels, seconds) {
          const k = labelKey(labels);
          let s = series.get(k);
          if (!s) series.set(k, (s = { counts: buckets.map(() => 0), sum: 0, count: 0 }));
          buckets.forEach((b, i) => {
            if (seconds <= b) s!.counts[i]!++;
          });
          s.sum += seconds;
          s.count++;
        },
      };
    },
    render: () => blocks.map((b) => b()).join("\n") + "\n",
  };
}

/** The metrics the services and transports record. */
export function createMetrics(registry: MetricsRegistry = createMetricsRegistry()) {
  return {
    registry,
    requests: registry.counter("identra_requests_total", "Requests by transport, route and status code."),
    requestDuration: registry.histogram("identra_request_duration_seconds", "Request latency by transport and route."),
    logins: registry.counter("identra_logins_total", "Login attempts by method and result."),
    rateLimited: registry.counter("identra_rate_limited_total", "Requests refused by a rate limit, by limit."),
    rateLimiterFailOpen: registry.counter("identra_rate_limiter_fail_open_total", "Password logins let through because the limiter store was down."),
    refreshReuse: registry.counter("identra_refresh_reuse_detected_total", "Refresh tokens replayed after their grace interval."),
    familiesRevoked: registry.counter("identra_refresh_families_revoked_total", "Refresh-token families revoked, by cause."),
    dependencyErrors: registry.counter("identra_dependency_errors_total", "Failures of a dependency (redis, database, smtp, github)."),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
