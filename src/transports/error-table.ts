// THE one table from ErrorCode to gRPC status code and HTTP status (contract §3). Adding a code to
// domain/errors.ts without a row here fails the type check (Record over the ErrorCode union).
import { isAppError, type ErrorCode } from "../domain/errors.ts";

export interface ErrorMapping {
  /** gRPC status code number (google.rpc.Code). */
  grpc: number;
  http: number;
}

const INVALID_ARGUMENT = { grpc: 3, http: 400 } as const;
const UNAUTHENTICATED = { grpc: 16, http: 401 } as const;
const FAILED_PRECONDITION = { grpc: 9, http: 400 } as const;
const ALREADY_EXISTS = { grpc: 6, http: 409 } as const;

export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorMapping>> = Object.freeze({
  INVALID_ARGUMENT,
  REDIRECT_URL_NOT_ALLOWED: INVALID_ARGUMENT,
  PROVIDER_NOT_SUPPORTED: INVALID_ARGUMENT,
  INVALID_STATE: INVALID_ARGUMENT,
  INVALID_CREDENTIALS: UNAUTHENTICATED,
  INVALID_CODE: UNAUTHENTICATED,
  INVALID_REFRESH_TOKEN: UNAUTHENTICATED,
  REFRESH_TOKEN_REVOKED: UNAUTHENTICATED,
  INVALID_ACCESS_TOKEN: UNAUTHENTICATED,
  ACCESS_TOKEN_REQUIRED: UNAUTHENTICATED,
  OAUTH_EXCHANGE_FAILED: UNAUTHENTICATED,
  OAUTH_PROFILE_FAILED: UNAUTHENTICATED,
  USER_EXISTS: ALREADY_EXISTS,
  OAUTH_ALREADY_LINKED: ALREADY_EXISTS,
  USER_DISABLED: { grpc: 7, http: 403 },
  PASSWORD_LOGIN_NOT_SET_UP: FAILED_PRECONDITION,
  MAIL_DISABLED: FAILED_PRECONDITION,
  OAUTH_NOT_CONFIGURED: FAILED_PRECONDITION,
  OAUTH_NO_EMAIL: FAILED_PRECONDITION,
  RATE_LIMITED: { grpc: 8, http: 429 },
  NOT_FOUND: { grpc: 5, http: 404 },
  DEPENDENCY_UNAVAILABLE: { grpc: 14, http: 503 },
  DEADLINE_EXCEEDED: { grpc: 4, http: 504 },
  UNIMPLEMENTED: { grpc: 12, http: 501 },
  INTERNAL: { grpc: 13, http: 500 },
});

export const GRPC_UNAUTHENTICATED = 16;
export const ERROR_DOMAIN = "identra";
export const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
export const INTERNAL_MESSAGE = "internal error";

export interface ErrorInfoDetail {
  "@type": typeof ERROR_INFO_TYPE;
  reason: ErrorCode;
  domain: typeof ERROR_DOMAIN;
}

export interface ErrorBody {
  code: number;
  message: string;
  details: ErrorInfoDetail[];
}

/** What a caller may see of an error: mapped AppErrors as they are, anything else as INTERNAL. */
export interface PublicError {
  reason: ErrorCode;
  message: string;
  mapping: ErrorMapping;
  retryAfterSeconds: number | undefined;
}

export const toPublicError = (err: unknown): PublicError => {
  if (isAppError(err)) {
    return {
      reason: err.reason,
      // An INTERNAL AppError may carry implementation detail: never shown, like any unknown error.
      message: err.reason === "INTERNAL" ? INTERNAL_MESSAGE : err.message,
      mapping: ERROR_TABLE[err.reason],
      retryAfterSeconds: err.retryAfterSeconds,
    };
  }
  return { reason: "INTERNAL", message: INTERNAL_MESSAGE, mapping: ERROR_TABLE.INTERNAL, retryAfterSeconds: undefined };
};

/** The REST error body (contract §3, design "Errors"). The caller logs non-AppErrors itself. */
export const toErrorBody = (err: unknown): ErrorBody => {
  const pub = toPublicError(err);
  return {
    code: pub.mapping.grpc,
    message: pub.message,
    details: [{ "@type": ERROR_INFO_TYPE, reason: pub.reason, domain: ERROR_DOMAIN }],
  };
};

const EMAIL_IN_TEXT = /[^\s<>"'(),;:@]+@[^\s<>"'(),;:@]+/g;
const JWT_IN_TEXT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

/**
 * The driver-level reason behind an AppError, for operators' logs (never sent to callers). Driver
 * texts may quote what they were given — an SMTP server's "550 <user@example.com>: Recipient address
 * rejected" — so addresses and JWT-shaped strings are masked: emails appear only at debug level, and
 * tokens never.
 */
export const causeOf = (err: Error): string | undefined => {
  const cause = (err as { cause?: unknown }).cause;
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : cause === undefined ? undefined : String(cause);
  return text?.replace(JWT_IN_TEXT, "[token]").replace(EMAIL_IN_TEXT, "[email]");
};
