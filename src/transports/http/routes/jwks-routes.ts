// GetJWKS: GET /api/.well-known/jwks.json — pre-serialised body, strong ETag, 304 on If-None-Match.
// GET and HEAD are answered by the server's native route (../jwks-endpoint.ts); this Elysia route
// serves the same document to whatever reaches the router instead.
import { Elysia } from "elysia";
import type { JwksResult } from "../../../services/api.ts";
import type { RouteDeps } from "./route-deps.ts";

export const JWKS_PATH = "/api/.well-known/jwks.json";
export const JWKS_CACHE_CONTROL = "public, max-age=3600";
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

const opaque = (tag: string): string => {
  const t = tag.trim();
  return t.startsWith("W/") ? t.slice(2) : t;
};

/** If-None-Match (a list, `*`, weak or strong tags: weak comparison, RFC 9110 §13.1.2) against our ETag. */
export const etagMatches = (header: string | null, etag: string): boolean => {
  if (header === null) return false;
  const ours = opaque(etag);
  return header.split(",").some((t) => t.trim() === "*" || opaque(t) === ours);
};

/** The JWKS answer: 304 when the caller already holds this version, else the document. */
export const jwksResponse = (jwks: JwksResult, ifNoneMatch: string | null): Response => {
  const headers = { etag: jwks.etag, "cache-control": JWKS_CACHE_CONTROL };
  if (etagMatches(ifNoneMatch, jwks.etag)) return new Response(null, { status: 304, headers });
  return new Response(jwks.body, { headers: { ...headers, "content-type": JSON_CONTENT_TYPE } });
};

export const createJwksRoutes = ({ api }: RouteDeps) =>
  new Elysia().get("/.well-known/jwks.json", ({ request }) => jwksResponse(api.getJwks(), request.headers.get("if-none-match")));
