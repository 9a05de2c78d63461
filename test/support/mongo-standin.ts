import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { MongoClient } from "mongodb";
import { freePort } from "./free-port.ts";

// A MongoDB for the tests: a real one when IDENTRA_TEST_MONGO_URI is set (CI with a replica set),
// else the in-memory stand-in from ../shared/tools/mongo-standin beside the repository. The
// stand-in does not enforce unique secondary indexes nor roll back aborted transactions: tests
// that need those run only when `isRealMongo`.

const REAL_URI = process.env.IDENTRA_TEST_MONGO_URI?.trim() ?? "";
export const isRealMongo: boolean = REAL_URI !== "";

export interface MongoHandle {
  uri: string;
  /** A database name unique to this handle. */
  database: string;
  /** Drops the database (real MongoDB) or kills the stand-in. Idempotent. */
  stop(): Promise<void>;
}

/** The repository root: the nearest ancestor of this file with a package.json. */
const repoRoot = (): string => {
  let dir = import.meta.dir;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dir}`);
    dir = parent;
  }
  return dir;
};

export const standinScript = (): string => resolve(repoRoot(), "..", "shared", "tools", "mongo-standin", "start");

const running = new Set<Subprocess>();
let exitHookInstalled = false;
const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // SIGTERM, not SIGKILL: the watchdog shell (see WATCHDOG) then stops the stand-in it started.
  process.on("exit", () => {
    for (const proc of running) proc.kill("SIGTERM");
  });
};

let counter = 0;
const uniqueDatabase = (): string => `identra_test_${process.pid}_${++counter}`;

/**
 * Reads the child's stdout until `pattern` shows up (rejects when it exits first or time runs out),
 * then keeps draining it in the background so the child never blocks on a full pipe.
 */
const waitForLine = async (proc: Subprocess<"ignore", "pipe", "pipe">, pattern: string, timeoutMs: number): Promise<void> => {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    while (!seen.includes(pattern)) {
      const { value, done } = await reader.read();
      if (done) {
        const stderr = await new Response(proc.stderr).text().catch(() => "");
        throw new Error(`mongo stand-in exited before "${pattern}" (after ${timeoutMs} ms at most): ${seen}${stderr}`);
      }
      seen += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
};

/**
 * Runs the stand-in under a small shell that stops it when told to (TERM/INT) and also when the
 * test process is gone, however it went (killed by a CI timeout, SIGKILL): no stand-in outlives
 * its test run. Arguments: script, port, pid of the test process.
 */
const WATCHDOG = [
  'trap \'kill "$c" 2>/dev/null; wait "$c"; exit 0\' TERM INT',
  '"$1" "$2" & c=$!',
  'while kill -0 "$3" 2>/dev/null && kill -0 "$c" 2>/dev/null; do sleep 0.5; done',
  'kill "$c" 2>/dev/null; wait "$c"',
].join("\n");

/** Starts the in-memory stand-in (even when IDENTRA_TEST_MONGO_URI is set), on `port` or a free one. */
export const startMongoStandin = async (port?: number): Promise<MongoHandle & { port: number }> => {
  const script = standinScript();
  if (!existsSync(script)) throw new Error(`mongo stand-in not found at ${script} (expected shared/ beside the repository)`);
  installExitHook();
  port ??= await freePort();
  const proc = Bun.spawn(["bash", "-c", WATCHDOG, "mongo-standin", script, String(port), String(process.pid)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  // The first start installs the stand-in's dependencies into a cache folder.
  await waitForLine(proc, `congo listening 127.0.0.1:${port}`, 120_000);
  return {
    port,
    // Polling monitor: the stand-in does not speak the streaming ("moreToCome") hello, and a stream
    // it ends early makes the driver clear its pool, failing in-flight operations.
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true&serverMonitoringMode=poll`,
    database: uniqueDatabase(),
    stop: async () => {
      if (!running.has(proc)) return;
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
      running.delete(proc);
    },
  };
};

const useReal = (): MongoHandle => {
  const database = uniqueDatabase();
  let stopped = false;
  return {
    uri: REAL_URI,
    database,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const client = new MongoClient(REAL_URI, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
};

/** A MongoDB with a fresh database name: IDENTRA_TEST_MONGO_URI when set, else a new stand-in process. */
export const startMongo = async (): Promise<MongoHandle> => (isRealMongo ? useReal() : startMongoStandin());

/**
 * Whether the server runs multi-document transactions. The stand-in commits them (it does not roll
 * back aborted ones); a real server only as a replica set or sharded cluster.
 */
export const supportsTransactions = async (): Promise<boolean> => {
  if (!isRealMongo) return true;
  const client = new MongoClient(REAL_URI, { serverSelectionTimeoutMS: 5_000 });
  try {
    const hello = await client.db("admin").command({ hello: 1 });
    return typeof hello.setName === "string" || hello.msg === "isdbgrid";
  } finally {
    await client.close();
  }
};
