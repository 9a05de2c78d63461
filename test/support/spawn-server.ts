// Starts Identra as a separate OS process (from source, or the compiled binary) and waits for the
// line it prints once both servers listen.
import { join } from "node:path";
import type { Subprocess } from "bun";
import { TEST_ENV } from "./identra-server.ts";

export const REPO_ROOT = join(import.meta.dir, "../..");

export interface SpawnedServer {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  httpUrl: string;
  grpcAddress: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** The compiled executable; default: `bun src/main.ts` from the repo. */
  binary?: string;
  args?: string[];
  timeoutMs?: number;
}

export function commandFor(options: SpawnOptions): string[] {
  return options.binary ? [options.binary, ...(options.args ?? [])] : [process.execPath, join(REPO_ROOT, "src/main.ts"), ...(options.args ?? [])];
}

export async function spawnServer(options: SpawnOptions = {}): Promise<SpawnedServer> {
  const proc = Bun.spawn(commandFor(options), {
    cwd: options.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...TEST_ENV, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk);
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let match: RegExpMatchArray | null = null;
  while (!(match = out.match(/identra listening http=(\d+) grpc=(\d+)/))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`identra did not start (exit ${proc.exitCode}):\n${out}`);
    }
    await Bun.sleep(20);
  }
  return {
    proc,
    httpUrl: `http://127.0.0.1:${match[1]}`,
    grpcAddress: `127.0.0.1:${match[2]}`,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Runs a CLI command of the executable to completion. */
export async function runCli(args: string[], options: SpawnOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(commandFor({ ...options, args }), {
    cwd: options.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...TEST_ENV, ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
