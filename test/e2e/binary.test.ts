// The compiled executable, copied alone into an empty directory, started as a user would:
// REST, gRPC (with reflection), Swagger UI and the OpenAPI document, a login, and a clean SIGTERM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { grpcDriver, restDriver } from "../support/rpc-driver.ts";
import { REPO_ROOT, spawnServer, type SpawnedServer } from "../support/spawn-server.ts";

const workDir = mkdtempSync(join(tmpdir(), "identra-e2e-"));
const binary = join(workDir, "identra");
let server: SpawnedServer;

beforeAll(async () => {
  const out = join(mkdtempSync(join(tmpdir(), "identra-build-")), "identra");
  const build = Bun.spawnSync([process.execPath, "run", "scripts/build.ts", "--outfile", out], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  copyFileSync(out, binary);
  Bun.spawnSync(["chmod", "+x", binary]);
  expect(readdirSync(workDir)).toEqual(["identra"]);
  // Default persistence path (data/users.db) relative to the empty working directory.
  server = await spawnServer({ binary, cwd: workDir, env: { IDENTRA_PERSISTENCE_SQLITE_PATH: "data/users.db" } });
}, 180_000);

afterAll(async () => {
  await server?.stop("SIGKILL");
});

test("REST: JWKS and a password login", async () => {
  const jwks = await fetch(`${server.httpUrl}/api/.well-known/jwks.json`);
  expect(jwks.status).toBe(200);
  expect(((await jwks.json()) as { keys: unknown[] }).keys).toHaveLength(1);
  const login = await restDriver(server.httpUrl).call("LoginByPassword", { email: "bin@example.com", password: "binary-password" });
  expect(login).toMatchObject({ ok: true, body: { token: { tokenType: "Bearer" } } });
  expect(existsSync(join(workDir, "data/users.db"))).toBe(true);
});

test("gRPC: the same login over a real client, and health", async () => {
  const d = grpcDriver(server.grpcAddress);
  const login = await d.call("LoginByPassword", { email: "bin@example.com", password: "binary-password" });
  d.close();
  expect(login).toMatchObject({ ok: true, body: { token: { tokenType: "Bearer" } } });
  expect(((await (await fetch(`${server.httpUrl}/healthz`)).json()) as { status: string }).status).toBe("ok");
  expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(200);
});

test("gRPC server reflection works inside the binary", async () => {
  const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
  const path = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  // ServerReflectionRequest { list_services = 7 } ; encoded by hand: field 7, wire type 2, empty string.
  const request = Buffer.from([0x3a, 0x00]);
  const stream = client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    stream.on("data", (b: Buffer) => resolve(b));
    stream.on("error", reject);
    stream.write(request);
  });
  stream.end();
  client.close();
  expect(reply.toString("latin1")).toContain("identra.v1.IdentraService");
});

test("Swagger UI and the generated OpenAPI document are served offline", async () => {
  const page = await fetch(`${server.httpUrl}/api/docs`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("swagger");
  expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|jsdelivr)/);
  const doc = await (await fetch(`${server.httpUrl}/api/openapi.json`)).json();
  expect(doc).toEqual(JSON.parse(readFileSync(join(REPO_ROOT, "generated/openapi.json"), "utf8")));
  const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  expect(assets.length).toBeGreaterThan(0);
  for (const asset of assets) {
    const url = new URL(asset, `${server.httpUrl}/api/docs/`);
    expect((await fetch(url)).status).toBe(200);
  }
});

test("SIGTERM drains and exits 0", async () => {
  const other = await spawnServer({ binary, cwd: workDir, env: { IDENTRA_PERSISTENCE_SQLITE_PATH: "data/other.db" } });
  expect(await other.stop("SIGTERM")).toBe(0);
});
