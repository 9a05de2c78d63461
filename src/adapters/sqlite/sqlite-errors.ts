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

/** Async port methods: a synchronous bun:sqlite call wrapped so failures become rejections. */
export const run = async <T>(fn: () => T): Promise<T> => guard(fn);
