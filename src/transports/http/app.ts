// The Elysia application: one plugin per RPC group under `/api`, the docs, health endpoints, and the
// one error hook that turns every failure into the contract's error body (never Elysia's defaults,
// which echo the request body or answer in plain text).
import { Elysia } from "elysia";
import { AppError } from "../../domain/errors.ts";
import type { HealthApi, IdentraApi } from "../../services/api.ts";
import { createDocsRoutes } from "./docs-routes.ts";
import { errorResponse } from "./error-response.ts";
import { jsonResponse } from "./json-mapping.ts";
import type { MetaStore } from "./request-meta.ts";
import { createEmailRoutes } from "./routes/email-routes.ts";
import { createMeRoutes } from "./routes/me-routes.ts";
import { createOAuthRoutes } from "./routes/oauth-routes.ts";
import { createPasswordRoutes } from "./routes/password-routes.ts";
import { createTokenRoutes } from "./routes/token-routes.ts";

export interface HttpAppDeps {
  api: IdentraApi;
  health: HealthApi;
  meta: MetaStore;
  maxBodyBytes: number;
}

export const ROUTE_NOT_FOUND = "route not found";

const readiness = async (health: HealthApi): Promise<Response> => {
  try {
    const r = await health.ready();
    return jsonResponse({ status: r.ok ? "ok" : "unavailable", checks: r.checks }, r.ok ? 200 : 503);
  } catch {
    return jsonResponse({ status: "unavailable" }, 503);
  }
};

export const createHttpApp = ({ api, health, meta, maxBodyBytes }: HttpAppDeps) => {
  const deps = { api, meta, maxBodyBytes };
  const apiApp = new Elysia({ prefix: "/api" })
    .use(createOAuthRoutes(deps))
    .use(createEmailRoutes(deps))
    .use(createPasswordRoutes(deps))
    .use(createTokenRoutes(deps))
    .use(createMeRoutes(deps))
    .use(createDocsRoutes());

  return new Elysia()
    .onTransform({ as: "global" }, ({ request, route }) => {
      meta.get(request).route = route;
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const m = meta.get(request);
      if (code === "NOT_FOUND") {
        m.unmatched = true;
        m.route = "(unmatched)";
        return errorResponse(new AppError("NOT_FOUND", ROUTE_NOT_FOUND));
      }
      if (error instanceof AppError) {
        m.error = error; // the access log wants the cause of DEPENDENCY_UNAVAILABLE
        return errorResponse(error);
      }
      // Elysia's own PARSE / VALIDATION errors would echo the input: answer without it.
      if (code === "PARSE") return errorResponse(new AppError("INVALID_ARGUMENT", "malformed JSON body"));
      if (code === "VALIDATION") return errorResponse(new AppError("INVALID_ARGUMENT", "invalid request"));
      m.error = error;
      return errorResponse(error);
    })
    .get("/healthz", () => jsonResponse({ status: "ok" }))
    .get("/readyz", () => readiness(health))
    .use(apiApp);
};
