// grpc.health.v1.Health: Check answers from health.ready(); Watch sends the current status, then each
// change (polled), until the client cancels or the server stops.
import { status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from "@grpc/grpc-js";
import type { HealthApi } from "../../services/api.ts";

type HealthRequest = { service?: string };
type HealthResponse = { status: "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" };

export interface HealthServiceDeps {
  health: HealthApi;
  /** Services a client may ask about besides "" (the whole server). */
  services: readonly string[];
  watchIntervalMs?: number;
}

export const createHealthService = ({ health, services, watchIntervalMs = 5000 }: HealthServiceDeps) => {
  const known = new Set(["", ...services]);
  const watchers = new Set<() => void>();
  const current = async (): Promise<HealthResponse["status"]> => {
    try {
      return (await health.ready()).ok ? "SERVING" : "NOT_SERVING";
    } catch {
      return "NOT_SERVING";
    }
  };
  return {
    handlers: {
      Check: (call: ServerUnaryCall<HealthRequest, HealthResponse>, callback: sendUnaryData<HealthResponse>) => {
        const service = call.request?.service ?? "";
        if (!known.has(service)) {
          // Never the caller's text back (found by the fuzzer): the name is not echoed.
          callback({ code: status.NOT_FOUND, details: "unknown service" });
          return;
        }
        void current().then((s) => callback(null, { status: s }));
      },
      Watch: (call: ServerWritableStream<HealthRequest, HealthResponse>) => {
        const service = call.request?.service ?? "";
        let last: HealthResponse["status"] | null = null;
        const push = async () => {
          const s = known.has(service) ? await current() : "SERVICE_UNKNOWN";
          if (s !== last && !call.cancelled) {
            last = s;
            call.write({ status: s });
          }
        };
        const timer = setInterval(() => void push(), watchIntervalMs);
        const finish = () => {
          clearInterval(timer);
          watchers.delete(finish);
          if (!call.cancelled) call.end();
        };
        watchers.add(finish);
        call.on("cancelled", finish);
        call.on("error", finish);
        void push();
      },
    },
    /** Ends every open Watch (so a graceful shutdown is not held open by them). */
    closeWatchers: () => {
      for (const finish of [...watchers]) finish();
    },
  };
};
