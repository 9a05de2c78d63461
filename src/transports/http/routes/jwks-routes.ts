// GetJWKS: GET /api/.well-known/jwks.json — pre-serialised body, strong ETag, 304 on If-None-Match.
import { Elysia } from "elysia";
import type { RouteDeps } from "./route-deps.ts";

export const JWKS_CACHE_CONTROL = "public, max-age=3600";

const etagMatches = (header: string | null, etag: string): boolean => {
  if (header === null) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
};

export const JWKS_PATH = "/api/.well-known/jwks.json";

/** The JWKS answer; also used by the server's fast path for the hottest route (no router work). */
export const jwksResponse = async (api: RouteDeps["api"], ifNoneMatch: string | null): Promise<Response> => {
  const jwks = await api.getJwks();
  const headers = { etag: jwks.etag, "cache-control": JWKS_CACHE_CONTROL };
  if (etagMatches(ifNoneMatch, jwks.etag)) return new Response(null, { status: 304, headers });
  return new Response(jwks.body, { headers: { ...headers, "content-type": "application/json; charset=utf-8" } });
};

export const createJwksRoutes = ({ api }: RouteDeps) =>
  new Elysia().get("/.well-known/jwks.json", ({ request }) => jwksResponse(api, request.headers.get("if-none-match")));
