import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface RedisHandle {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then waits for it to exit). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port (stopping it first when it runs). */
  restart(): Promise<void>;
}

const running = new Set<Subprocess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const proc of running) proc.kill("SIGKILL");
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
};

/**
 * `bun test` fires no "exit" event, so a watchdog shell outlives us instead: once this process is
 * gone (and the server still runs), it kills the server and removes its directory. It ends by itself
 * when the server stops first, and is unref'd so it never keeps the test process alive.
 */
const watchdog = (serverPid: number, dir: string): void => {
  const me = process.pid;
  const script =
    `while kill -0 ${me} 2>/dev/null && kill -0 ${serverPid} 2>/dev/null; do sleep 0.2; done; ` +
    `if ! kill -0 ${me} 2>/dev/null; then kill -9 ${serverPid} 2>/dev/null; rm -rf '${dir}'; fi`;
  Bun.spawn(["sh", "-c", script], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).unref();
};

/** Sends PING over a raw socket; resolves whether +PONG came back. */
const pingOnce = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });

const waitForPong = async (port: number, proc: Subprocess, timeoutMs = 10_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited early with code ${proc.exitCode}`);
    if (await pingOnce(port)) return;
    await Bun.sleep(25);
  }
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms`);
};

/**
 * Starts a throw-away redis-server on a free loopback port in a temp directory (no persistence),
 * waits until it answers PING, and makes sure it dies with the test process.
 */
export const startRedis = async (): Promise<RedisHandle> => {
  const binary = Bun.which("redis-server");
  if (binary === null) {
    throw new Error("redis-server is not on PATH: install it (Debian: apt-get install -y redis-server) to run these tests");
  }
  installExitHook();
  const port = await freePort();
  let proc: Subprocess | null = null;
  let dir: string | null = null;

  const removeDir = (): void => {
    if (dir === null) return;
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
    dir = null;
  };

  const spawn = async (): Promise<void> => {
    dir = mkdtempSync(join(tmpdir(), "identra-redis-"));
    tempDirs.add(dir);
    const child = Bun.spawn(
      [binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning", "--dir", dir],
      { cwd: dir, stdout: "ignore", stderr: "pipe" },
    );
    running.add(child);
    proc = child;
    watchdog(child.pid, dir);
    try {
      await waitForPong(port, child);
    } catch (error) {
      child.kill("SIGKILL");
      running.delete(child);
      proc = null;
      removeDir();
      const stderr = await new Response(child.stderr as ReadableStream).text().catch(() => "");
      throw new Error(`${(error as Error).message}${stderr ? `\n${stderr}` : ""}`);
    }
  };

  const stop = async (): Promise<void> => {
    const child = proc;
    if (child === null) return;
    proc = null;
    child.kill("SIGTERM");
    await child.exited;
    running.delete(child);
    removeDir();
  };

  await spawn();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stop();
    },
    restart: async () => {
      await stop();
      await spawn();
    },
  };
};
