// Any failure → the contract's REST error (status from THE error table, `{code, message, details}`),
// with WWW-Authenticate on UNAUTHENTICATED and Retry-After on RESOURCE_EXHAUSTED.
import type { ErrorCode } from "../../domain/errors.ts";
import { GRPC_UNAUTHENTICATED, toErrorBody, toPublicError } from "../error-table.ts";
import { jsonResponse } from "./json-mapping.ts";

/** Reasons about a presented bearer-style token (RFC 6750 `invalid_token`); other 401s get plain `Bearer`. */
const TOKEN_REASONS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "INVALID_ACCESS_TOKEN",
  "INVALID_REFRESH_TOKEN",
  "REFRESH_TOKEN_REVOKED",
]);

export const errorResponse = (err: unknown): Response => {
  const pub = toPublicError(err);
  const headers: Record<string, string> = {};
  if (pub.mapping.grpc === GRPC_UNAUTHENTICATED) {
    headers["www-authenticate"] = TOKEN_REASONS.has(pub.reason) ? 'Bearer error="invalid_token"' : "Bearer";
  }
  if (pub.reason === "RATE_LIMITED") {
    headers["retry-after"] = String(Math.max(1, Math.ceil(pub.retryAfterSeconds ?? 60)));
  }
  return jsonResponse(toErrorBody(err), pub.mapping.http, headers);
};
