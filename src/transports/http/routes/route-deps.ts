import type { IdentraApi } from "../../../services/api.ts";
import { loggableEmail } from "../../observe.ts";
import type { MetaStore } from "../request-meta.ts";

/** What every RPC-group plugin needs. */
export interface RouteDeps {
  api: IdentraApi;
  meta: MetaStore;
  maxBodyBytes: number;
}

/** Routes read the raw body themselves (bounded), so Elysia must not parse it. */
export const NO_PARSE = { parse: "none" } as const;

/** Notes the request's email for the access log (shown only at log.level=debug). */
export const noteEmail = (meta: MetaStore, request: Request, email: string | undefined): void => {
  const e = loggableEmail(email);
  if (e !== undefined) meta.get(request).email = e;
};
