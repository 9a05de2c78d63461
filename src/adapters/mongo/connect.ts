import { setTimeout as sleep } from "node:timers/promises";
import { MongoClient, MongoError } from "mongodb";
import type { ClientSession, Db, Document } from "mongodb";
import { isUnavailable } from "./errors.ts";

export interface MongoConfig {
  uri: string;
  database: string;
}

/** How long startup waits for the deployment, and each later call waits for a usable server. */
export const SELECTION_TIMEOUT_MS = 5_000;

/** The URI with any user:password replaced, fit for error messages and logs. */
export const redactUri = (uri: string): string => uri.replace(/\/\/[^@/]*@/, "//***@");

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export interface Connection {
  client: MongoClient;
  db: Db;
  /** Whether the deployment runs multi-document transactions (replica set or sharded cluster). */
  transactions: boolean;
}

/**
 * Connects and checks the deployment answers, within SELECTION_TIMEOUT_MS. A missing or unreachable
 * database is a startup error naming MongoDB and the URI (without credentials). Later, the driver
 * reconnects by itself; calls made meanwhile fail after SELECTION_TIMEOUT_MS (see errors.ts).
 */
export const connectMongo = async (config: MongoConfig): Promise<Connection> => {
  const where = redactUri(config.uri);
  let client: MongoClient;
  try {
    client = new MongoClient(config.uri, {
      serverSelectionTimeoutMS: SELECTION_TIMEOUT_MS,
      connectTimeoutMS: SELECTION_TIMEOUT_MS,
      socketTimeoutMS: 30_000,
      retryWrites: true,
      appName: "identra",
    });
  } catch (error) {
    throw new Error(`invalid MongoDB URI ${where}: ${reasonOf(error)}`, { cause: error });
  }
  try {
    await client.connect();
    const db = client.db(config.database);
    const hello: Document = await db.command({ hello: 1 });
    const transactions = typeof hello.setName === "string" || hello.msg === "isdbgrid";
    return { client, db, transactions };
  } catch (error) {
    await client.close().catch(() => {});
    throw new Error(`cannot reach MongoDB at ${where}: ${reasonOf(error)}`, { cause: error });
  }
};

const MAX_TRANSACTION_ATTEMPTS = 8;

const isTransient = (error: unknown): boolean =>
  error instanceof MongoError && error.hasErrorLabel("TransientTransactionError") && !isUnavailable(error);

/** One transaction with a bounded retry on write conflicts (never on an unreachable deployment). */
const inTransaction = async <T>(client: MongoClient, writes: (session: ClientSession) => Promise<T>): Promise<T> => {
  const session = client.startSession();
  try {
    for (let attempt = 1; ; attempt += 1) {
      session.startTransaction({ readConcern: { level: "snapshot" }, writeConcern: { w: "majority" } });
      try {
        const result = await writes(session);
        await session.commitTransaction();
        return result;
      } catch (error) {
        if (session.inTransaction()) await session.abortTransaction().catch(() => {});
        if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isTransient(error)) throw error;
        await sleep(2 ** attempt);
      }
    }
  } finally {
    await session.endSession().catch(() => {});
  }
};

/**
 * Runs `writes` as one transaction when the deployment supports them; otherwise runs them in
 * order and, when one fails, calls `undo` (best effort) before rethrowing, so a failed multi-write
 * leaves nothing behind. `writes` must be ordered so that the writes that can fail (the `_id`
 * claims) come before the ones that cannot, and so that stopping after any of its writes (a crash
 * without a transaction) leaves a state that is safe and that a retry completes.
 */
export const createWriteRunner =
  (connection: Pick<Connection, "client" | "transactions">) =>
  async <T>(writes: (session: ClientSession | undefined) => Promise<T>, undo: () => Promise<void>): Promise<T> => {
    if (connection.transactions) return inTransaction(connection.client, writes);
    try {
      return await writes(undefined);
    } catch (error) {
      await undo().catch(() => {});
      throw error;
    }
  };

export type WriteRunner = ReturnType<typeof createWriteRunner>;
