// Optional static SPA from http.static_dir: files as they are, index.html for client-side routes,
// never shadows /api, never escapes the directory.
import { afterAll, expect, test } from "bun:test";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHttpServer } from "../../src/transports/http/server.ts";
import { createFakeServices, createHttpClient, sequentialRequestIds, silentLogger, testConfig } from "../support/http-client.ts";

const base = await mkdtemp(join(tmpdir(), "identra-spa-"));
const dir = join(base, "www");
await mkdir(join(dir, "assets"), { recursive: true });
await writeFile(join(dir, "index.html"), "<!doctype html><title>spa</title>");
await writeFile(join(dir, "assets", "app.js"), "console.log('app')");
await writeFile(join(base, "secret.txt"), "top secret");

const fake = createFakeServices();
const server = createHttpServer({
  api: fake.api,
  health: fake.health,
  config: testConfig({ http: { staticDir: dir } }),
  logger: silentLogger(),
  newRequestId: sequentialRequestIds(),
});
const { port } = await server.start();
const client = createHttpClient(`http://127.0.0.1:${port}`);

afterAll(async () => {
  await server.stop(100);
  await rm(base, { recursive: true, force: true });
});

test("serves files and falls back to index.html", async () => {
  const js = await client.get("/assets/app.js");
  expect(js.status).toBe(200);
  expect(js.text).toBe("console.log('app')");
  expect(js.headers.get("x-content-type-options")).toBe("nosniff");
  for (const path of ["/", "/settings/profile", "/assets/missing.js"]) {
    const r = await client.get(path);
    expect(r.status).toBe(200);
    expect(r.text).toContain("<title>spa</title>");
  }
});

test("never shadows /api and never escapes the directory", async () => {
  expect((await client.get("/api/unknown")).status).toBe(404);
  expect((await client.get("/api/oauth/providers")).status).toBe(200);
  for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"]) {
    expect((await client.get(path)).text).not.toContain("top secret");
  }
  expect((await client.post("/settings", {})).status).toBe(404);
});
