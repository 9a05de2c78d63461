// CORS from `cors.allowed_origins` (exact origins or `*`) and `cors.allow_credentials`. With
// credentials, `*` is never sent: only a listed origin is echoed.

export interface CorsPolicy {
  /** Headers for a response to a request with this Origin (empty when not allowed or no Origin). */
  headersFor(origin: string | null): Record<string, string>;
  /** The 204 answer to a preflight. */
  preflight(origin: string | null): Response;
}

export const CORS_ALLOW_METHODS = "GET, POST, OPTIONS";
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id";
const EXPOSE_HEADERS = "X-Request-Id, Retry-After, WWW-Authenticate, ETag";

export const createCorsPolicy = (cfg: { allowedOrigins: readonly string[]; allowCredentials: boolean }): CorsPolicy => {
  const listed = new Set(cfg.allowedOrigins.filter((o) => o !== "*"));
  const wildcard = cfg.allowedOrigins.includes("*");
  // When the answer depends on the Origin (any listed origin), caches must key on it.
  const vary: Record<string, string> = listed.size > 0 ? { vary: "Origin" } : {};
  const headersFor = (origin: string | null): Record<string, string> => {
    if (origin === null) return { ...vary };
    const base = { ...vary, "access-control-expose-headers": EXPOSE_HEADERS };
    if (listed.has(origin)) {
      return {
        ...base,
        "access-control-allow-origin": origin,
        ...(cfg.allowCredentials ? { "access-control-allow-credentials": "true" } : {}),
      };
    }
    if (wildcard && !cfg.allowCredentials) return { ...base, "access-control-allow-origin": "*" };
    return { ...vary };
  };
  return {
    headersFor,
    preflight: (origin) => {
      const allowed = headersFor(origin);
      const headers: Record<string, string> = { vary: "Origin" };
      if (allowed["access-control-allow-origin"] !== undefined) {
        Object.assign(headers, allowed, {
          "access-control-allow-methods": CORS_ALLOW_METHODS,
          "access-control-allow-headers": CORS_ALLOW_HEADERS,
          "access-control-max-age": "600",
        });
        delete headers["access-control-expose-headers"];
      }
      return new Response(null, { status: 204, headers });
    },
  };
};
