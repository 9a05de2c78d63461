import { AppError, MESSAGES, isAppError } from "../../domain/errors.ts";

interface SqliteLikeError {
  code?: unknown;
  message?: unknown;
}

const codeOf = (error: unknown): string => {
  const code = (error as SqliteLikeError | null)?.code;
  return typeof code === "string" ? code : "";
};

const messageOf = (error: unknown): string => {
  const message = (error as SqliteLikeError | null)?.message;
  return typeof message === "string" ? message : "";
};

/** Whether the error is a constraint violation naming `table.column` (UNIQUE / PRIMARY KEY). */
export const isUniqueViolation = (error: unknown, table: string): boolean =>
  codeOf(error).startsWith("SQLITE_CONSTRAINT") && messageOf(error).includes(`${table}.`);

/**
 * Maps bun:sqlite errors to the port's AppErrors: duplicates to USER_EXISTS / OAUTH_ALREADY_LINKED,
 * a lock that outlived busy_timeout to DEPENDENCY_UNAVAILABLE, a missing parent row to NOT_FOUND.
 * Anything else (already an AppError, or a genuine bug) is returned unchanged.
 */
export const mapSqliteError = (error: unknown): unknown => {
  if (isAppError(error)) return error;
  const code = codeOf(error);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new AppError("DEPENDENCY_UNAVAILABLE", "database is busy", { cause: error });
  }
  if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") {
    return new AppError("NOT_FOUND", "user not found", { cause: error });
  }
  if (code.startsWith("SQLITE_CONSTRAINT")) {
    if (isUniqueViolation(error, "external_identities")) {
      return new AppError("OAUTH_ALREADY_LINKED", MESSAGES.alreadyLinked, { cause: error });
    }
    if (isUniqueViolation(error, "users")) {
      return new AppError("USER_EXISTS", MESSAGES.userExists, { cause: error });
    }
  }
  return error;
};

/** Runs `fn`, rethrowing its failure through mapSqliteError. */
export const guard = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (error) {
    throw mapSqliteError(error);
  }
};

/** How long a statement may wait for another connection's lock before DEPENDENCY_UNAVAILABLE. */
export const BUSY_BUDGET_MS = 5000;

const isBusy = (error: unknown): boolean => codeOf(error).startsWith("SQLITE_BUSY");

/**
 * Async port methods: a synchronous bun:sqlite call wrapped so failures become rejections.
 * A lock held by another connection (SQLITE_BUSY) is waited for HERE, off the event loop, with
 * backoff up to BUSY_BUDGET_MS: SQLite's own busy_timeout would sleep inside the synchronous call
 * and freeze the whole process (every request, /healthz, gRPC) for each waiting write in turn.
 * Retrying is safe: SQLITE_BUSY comes from the first step of a write or from BEGIN IMMEDIATE,
 * before anything was changed (bun:sqlite's transaction wrapper rolls back what it began).
 */
export const run = async <T>(fn: () => T, budgetMs = BUSY_BUDGET_MS): Promise<T> => {
  const deadline = performance.now() + budgetMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      return fn();
    } catch (error) {
      const left = deadline - performance.now();
      if (!isBusy(error) || left <= 0) throw mapSqliteError(error);
      await Bun.sleep(Math.min(delay, left));
    }
  }
};
