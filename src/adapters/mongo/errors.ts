import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { AppError, isAppError } from "../../domain/errors.ts";

/** Server codes that mean "the deployment is not able to answer right now" (elections, shutdown, network). */
const UNAVAILABLE_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

export const DUPLICATE_KEY = 11000;

/** Whether `error` is a duplicate-key failure (E11000), from a single write or a bulk write. */
export const isDuplicateKey = (error: unknown): boolean =>
  error instanceof MongoServerError && (error.code === DUPLICATE_KEY || error.code === 11001);

export const isUnavailable = (error: unknown): boolean =>
  error instanceof MongoNetworkError ||
  error instanceof MongoServerSelectionError ||
  error instanceof MongoNotConnectedError ||
  error instanceof MongoTopologyClosedError ||
  error instanceof MongoOperationTimeoutError ||
  (error instanceof MongoServerError && typeof error.code === "number" && UNAVAILABLE_CODES.has(error.code));

/**
 * Maps driver failures to the ports' AppErrors: an unreachable or failing-over deployment becomes
 * DEPENDENCY_UNAVAILABLE (the driver reconnects by itself; the next call may succeed). AppErrors and
 * anything else (a genuine bug) pass through unchanged. Duplicate keys are mapped by the stores,
 * which know which collection (and so which AppError) a write was about.
 */
export const mapMongoError = (error: unknown): unknown => {
  if (isAppError(error)) return error;
  if (isUnavailable(error)) return new AppError("DEPENDENCY_UNAVAILABLE", "database is unavailable", { cause: error });
  return error;
};

/** Runs `fn`, rethrowing its failure through mapMongoError. */
export const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    throw mapMongoError(error);
  }
};

/** Runs an insert; resolves false instead of throwing when the `_id` (or a unique key) is already taken. */
export const insertUnlessTaken = async (insert: () => Promise<unknown>): Promise<boolean> => {
  try {
    await insert();
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
};
