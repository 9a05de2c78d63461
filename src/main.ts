#!/usr/bin/env bun
// Entry point of the `identra` executable: `serve` (default), `keys ...`, `import ...`.
import { createApp, createAppLogger } from "./app.ts";
import { runKeysCommand } from "./cli/keys.ts";
import { ConfigError } from "./config/errors.ts";
import { loadConfigFromProcess } from "./config/process.ts";
import type { Config } from "./config/types.ts";
import { systemClock } from "./adapters/system/clock.ts";
import { cryptoRandom } from "./adapters/system/random.ts";
import { openStores } from "./stores.ts";
import { createGrpcServer } from "./transports/grpc/server.ts";
import { createHttpServer } from "./transports/http/server.ts";

const USAGE = `identra — authentication service (REST + gRPC)

usage:
  identra [serve] [--config <file>]     start the server
  identra keys list|rotate [--now]|retire <kid> [--config <file>]
  identra import --from <sqlite path | mongodb uri> [--config <file>]
  identra --help | --version

Configuration: configs/default.toml (embedded) ← --config / IDENTRA_CONFIG ← IDENTRA_* environment.`;

const GRACE_MS = 10_000;

const readConfig = (argv: string[]): Config => loadConfigFromProcess(argv);

async function serve(argv: string[]): Promise<void> {
  const config = readConfig(argv);
  const app = await createApp(config);
  const deps = { api: app.api, health: app.health, config, logger: app.logger, metrics: app.metrics, newRequestId: () => cryptoRandom.uuid() };
  const http = createHttpServer(deps);
  const grpc = createGrpcServer(deps);
  const [h, g] = await Promise.all([http.start(), grpc.start()]);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info("shutting down", { signal });
    await Promise.allSettled([http.stop(GRACE_MS), grpc.stop(GRACE_MS)]);
    await app.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  app.logger.info("identra started", { http_port: h.port, grpc_port: g.port, persistence: config.persistence.type });
  // A plain line too, so scripts and people can read the bound ports whatever the log format.
  process.stdout.write(`identra listening http=${h.port} grpc=${g.port}\n`);
}

async function keys(argv: string[]): Promise<number> {
  const config = readConfig(argv);
  const stores = await openStores(config);
  try {
    return await runKeysCommand(argv.filter((a, i) => a !== "--config" && argv[i - 1] !== "--config"), {
      keys: stores.keys,
      clock: systemClock,
      config,
      out: (line) => process.stdout.write(line + "\n"),
    });
  } finally {
    await stores.close();
  }
}

async function importCommand(argv: string[]): Promise<number> {
  const config = readConfig(argv);
  const { runImport } = await import("./cli/import.ts");
  return runImport(argv, { config, logger: createAppLogger(config), now: systemClock.now(), out: (l: string) => process.stdout.write(l + "\n") });
}

async function main(argv: string[]): Promise<number | null> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (first === "--version") {
    process.stdout.write("identra 0.1.0\n");
    return 0;
  }
  if (first === "keys") return keys(rest);
  if (first === "import") return importCommand(rest);
  if (first === undefined || first === "serve") {
    await serve(first === "serve" ? rest : argv);
    return null;
  }
  if (first.startsWith("--")) {
    await serve(argv);
    return null;
  }
  process.stderr.write(`unknown command: ${first}\n\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  (e: unknown) => {
    // Startup failures: one clear line, no stack trace (config errors name their key).
    const message = e instanceof ConfigError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`identra: ${message}\n`);
    process.exit(1);
  },
);
