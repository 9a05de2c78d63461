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
  const dir = mkdtempSync(join(tmpdir(), "identra-redis-"));
  tempDirs.add(dir);
  let proc: Subprocess | null = null;

  const spawn = async (): Promise<void> => {
    const child = Bun.spawn(
      [binary, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning", "--dir", dir],
      { cwd: dir, stdout: "ignore", stderr: "pipe" },
    );
    running.add(child);
    proc = child;
    try {
      await waitForPong(port, child);
    } catch (error) {
      child.kill("SIGKILL");
      running.delete(child);
      proc = null;
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
