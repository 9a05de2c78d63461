// redis.password against a real redis-server started with --requirepass.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedisEphemeralStore } from "../../src/adapters/redis/index.ts";
import { freePort } from "../support/free-port.ts";

let port = 0;
let proc: ReturnType<typeof Bun.spawn>;
beforeAll(async () => {
  port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "identra-redis-auth-"));
  proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--requirepass", "s3cret-pass"], { stdout: "ignore", stderr: "ignore" });
  Bun.spawn(["sh", "-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; kill -9 ${proc.pid} 2>/dev/null`], { stdout: "ignore", stderr: "ignore" }).unref();
  for (let i = 0; i < 200; i++) {
    const r = Bun.spawnSync(["redis-cli", "-p", String(port), "-a", "s3cret-pass", "--no-auth-warning", "ping"], { stdout: "pipe" });
    if (r.stdout.toString().trim() === "PONG") break;
    await Bun.sleep(25);
  }
});
afterAll(async () => {
  proc.kill("SIGKILL");
  await proc.exited;
});

test("the configured password authenticates", async () => {
  const store = createRedisEphemeralStore({ urls: [`redis://127.0.0.1:${port}`], password: "s3cret-pass" });
  try {
    await store.set("k", "v", 10_000);
    expect(await store.get("k")).toBe("v");
  } finally {
    await store.close();
  }
});

test("a wrong or missing password is DEPENDENCY_UNAVAILABLE, never a leak of the password", async () => {
  for (const password of ["wrong-pass", undefined]) {
    const store = createRedisEphemeralStore({ urls: [`redis://127.0.0.1:${port}`], ...(password ? { password } : {}), connectTimeoutMs: 1000 });
    try {
      const error = await store.get("k").then(() => null, (e: unknown) => e as Error & { reason?: string });
      expect(error?.reason).toBe("DEPENDENCY_UNAVAILABLE");
      expect(error?.message).not.toContain("s3cret");
    } finally {
      await store.close();
    }
  }
});
