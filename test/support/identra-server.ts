// Starts the real app (real stores, real transports on loopback ports) in this process, with test
// settings: a temp SQLite file, a cheap Argon2 cost, quiet logs. Env keys use the IDENTRA_ form.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type App, type AppOverrides } from "../../src/app.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createGrpcServer } from "../../src/transports/grpc/server.ts";
import { createHttpServer } from "../../src/transports/http/server.ts";

export interface TestServer {
  app: App;
  httpUrl: string;
  grpcAddress: string;
  dataDir: string;
  stop(): Promise<void>;
}

export const TEST_ENV: Record<string, string> = {
  IDENTRA_HTTP_PORT: "0",
  IDENTRA_GRPC_PORT: "0",
  IDENTRA_BIND_ADDRESS: "127.0.0.1",
  IDENTRA_LOG_LEVEL: "error",
  IDENTRA_AUTH_PASSWORD_ARGON2_MEMORY_COST: "1024",
  IDENTRA_AUTH_PASSWORD_ARGON2_TIME_COST: "1",
};

export async function startTestServer(options: { env?: Record<string, string>; overrides?: AppOverrides; dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "identra-test-"));
  const env = { IDENTRA_PERSISTENCE_SQLITE_PATH: join(dataDir, "users.db"), ...TEST_ENV, ...options.env };
  const config = loadConfig({ argv: [], env, readFile: (p) => readFileSync(p, "utf8") });
  const app = await createApp(config, options.overrides);
  let n = 0;
  const deps = { api: app.api, health: app.health, config, logger: app.logger, metrics: app.metrics, newRequestId: () => `req-${++n}` };
  const http = createHttpServer(deps);
  const grpc = createGrpcServer(deps);
  const [h, g] = await Promise.all([http.start(), grpc.start()]);
  return {
    app,
    httpUrl: `http://127.0.0.1:${h.port}`,
    grpcAddress: `127.0.0.1:${g.port}`,
    dataDir,
    async stop() {
      await Promise.allSettled([http.stop(100), grpc.stop(100)]);
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
