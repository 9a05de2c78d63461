import { Cluster, Redis } from "ioredis";
import type { ClusterNode, ClusterOptions, RedisOptions } from "ioredis";
import { AppError } from "../../domain/errors.ts";

export interface RedisConnectionOptions {
  /** One URL → a single node; several → Redis Cluster seed nodes. redis:// or rediss:// (TLS). */
  urls: string[];
  password?: string;
  /** Socket connect timeout, and how long a command waits for the FIRST connection. Default 2000. */
  connectTimeoutMs?: number;
  /** A command without a reply after this long fails. Default 1000. */
  commandTimeoutMs?: number;
}

/** The part of ioredis' Redis and Cluster that the store uses. */
export interface RedisClient {
  readonly status: string;
  once(event: "ready" | "close" | "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** Reconnect forever, backing off 100 ms, 200 ms, 400 ms … capped at 2 s. */
export const retryDelay = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

const nodeOf = (url: string): ClusterNode => {
  const u = new URL(url);
  return { host: u.hostname, port: u.port === "" ? 6379 : Number(u.port) };
};

/**
 * Builds the ioredis client. Commands never queue while disconnected (enableOfflineQueue: false,
 * no resend of in-flight commands): a down Redis costs a caller at most commandTimeoutMs, never an
 * endless wait; the client keeps reconnecting by itself.
 */
export const createRedisClient = (options: RedisConnectionOptions): Redis | Cluster => {
  const [first, ...rest] = options.urls;
  if (first === undefined) throw new Error("redis.urls is empty");
  const common: RedisOptions = {
    connectTimeout: options.connectTimeoutMs ?? 2000,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    retryStrategy: retryDelay,
    ...(options.password === undefined ? {} : { password: options.password }),
  };
  if (rest.length === 0) return new Redis(first, common);

  const firstUrl = new URL(first);
  const password = options.password ?? (firstUrl.password === "" ? undefined : decodeURIComponent(firstUrl.password));
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: false,
    clusterRetryStrategy: retryDelay,
    redisOptions: {
      ...common,
      ...(password === undefined ? {} : { password }),
      ...(firstUrl.protocol === "rediss:" ? { tls: {} } : {}),
    },
  };
  return new Cluster(options.urls.map(nodeOf), clusterOptions);
};

export const unavailable = (cause?: unknown): AppError =>
  new AppError("DEPENDENCY_UNAVAILABLE", "redis is unavailable", cause === undefined ? {} : { cause });

/**
 * Replies that mean "you sent something wrong" (WRONGTYPE, ERR not an integer …) stay as they are,
 * so they surface as INTERNAL; everything else (closed connection, timeout, LOADING, CLUSTERDOWN,
 * NOAUTH …) means Redis cannot serve us now.
 */
export const mapRedisError = (error: unknown): unknown => {
  if (error instanceof AppError) return error;
  if (error instanceof Error && error.name === "ReplyError" && /^(WRONGTYPE|ERR )/.test(error.message)) {
    return error;
  }
  return unavailable(error);
};

/**
 * Tracks the FIRST connection attempt: `settled` resolves when the client became ready or the first
 * attempt failed (one shared promise, so any number of waiting callers add no listeners).
 */
export const watchFirstConnection = (client: RedisClient): { settled: Promise<void>; everReady(): boolean } => {
  let everReady = false;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  client.once("ready", () => {
    everReady = true;
    settle();
  });
  client.once("close", settle);
  client.once("end", settle);
  return { settled, everReady: () => everReady };
};

/**
 * Resolves when the client is ready. Only while the FIRST connection is being made does a caller
 * wait (up to `ms`); after that a disconnected client fails at once instead of queueing callers.
 */
export const whenReady = async (
  client: RedisClient,
  first: { settled: Promise<void>; everReady(): boolean },
  ms: number,
): Promise<void> => {
  if (client.status === "ready") return;
  const connecting = client.status === "wait" || client.status === "connecting" || client.status === "connect";
  if (first.everReady() || !connecting) throw unavailable();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([first.settled, timeout]);
  clearTimeout(timer);
  // Re-read: the status changed while we waited (TypeScript still holds the narrowed type).
  if ((client as { status: string }).status !== "ready") throw unavailable();
};
