// The error model shared by every transport. Services throw AppError for every failure a caller
// may see; the transports map `code` through transports/error-table.ts. Anything else that escapes
// a service is INTERNAL and is answered with a generic message.

export const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "INVALID_CREDENTIALS",
  "INVALID_CODE",
  "INVALID_REFRESH_TOKEN",
  "REFRESH_TOKEN_REVOKED",
  "INVALID_ACCESS_TOKEN",
  "ACCESS_TOKEN_REQUIRED",
  "USER_EXISTS",
  "USER_DISABLED",
  "PASSWORD_LOGIN_NOT_SET_UP",
  "RATE_LIMITED",
  "MAIL_DISABLED",
  "PROVIDER_NOT_SUPPORTED",
  "OAUTH_NOT_CONFIGURED",
  "INVALID_STATE",
  "OAUTH_EXCHANGE_FAILED",
  "OAUTH_PROFILE_FAILED",
  "OAUTH_ALREADY_LINKED",
  "OAUTH_NO_EMAIL",
  "REDIRECT_URL_NOT_ALLOWED",
  "NOT_FOUND",
  "DEPENDENCY_UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "UNIMPLEMENTED",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  cause?: unknown;
  /** Seconds the caller should wait before retrying (RATE_LIMITED). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly reason: ErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(reason: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.reason = reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Contract message texts (identra-api.md §3) in one place. */
export const MESSAGES = {
  emailRequired: "email is required",
  emailAndPasswordRequired: "email and password are required",
  emailAndCodeRequired: "email and code are required",
  refreshTokenRequired: "refresh token is required",
  providerRequired: "provider is required",
  redirectUrlRequired: "redirect URL is required",
  codeRequired: "code is required",
  stateRequired: "state is required",
  invalidCredentials: "invalid credentials",
  invalidCode: "invalid or expired code",
  invalidRefreshToken: "invalid refresh token",
  refreshTokenRevoked: "refresh token has been revoked",
  invalidAccessToken: "invalid access token",
  accessTokenRequired: "access token is required",
  userExists: "user already exists",
  passwordNotSetUp: "password login not set up for this account",
  githubNotConfigured: "GitHub OAuth is not configured",
  invalidState: "invalid or expired state",
  exchangeFailed: "failed to exchange authorization code",
  profileFailed: "failed to fetch user info",
  alreadyLinked: "oauth account already linked to another user",
  noEmail: "oauth provider did not supply an email address",
  mailDisabled: "mail service is disabled",
  tooManyFailed: "too many failed attempts, please try again later",
  tooManyCodes: "too many verification code requests, please try again later",
  userDisabled: "user account is disabled",
} as const;
