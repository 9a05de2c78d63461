import type { IdentraApi } from "../../../services/api.ts";
import type { MetaStore } from "../request-meta.ts";

/** What every RPC-group plugin needs. */
export interface RouteDeps {
  api: IdentraApi;
  meta: MetaStore;
  maxBodyBytes: number;
}

/** Routes read the raw body themselves (bounded), so Elysia must not parse it. */
export const NO_PARSE = { parse: "none" } as const;
