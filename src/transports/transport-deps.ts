// What both transport servers are built from, and what they offer: one shape, so main.ts and the
// tests start either the same way.
import type { Config } from "../config/types.ts";
import type { Logger } from "../ports/system.ts";
import type { HealthApi, IdentraApi } from "../services/api.ts";
import type { Metrics } from "../services/metrics.ts";

export interface TransportDeps {
  api: IdentraApi;
  health: HealthApi;
  config: Config;
  logger: Logger;
  newRequestId: () => string;
  /** When given, every request/call is counted and timed (the REST port serves `/metrics`). */
  metrics?: Metrics;
  /** Monotonic milliseconds for durations (default `performance.now`). */
  monotonicNow?: () => number;
}

export interface TransportServer {
  start(): Promise<{ port: number }>;
  /** Stops accepting, lets in-flight requests finish, cancels what is left after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}
