// A real three-node Redis Cluster on loopback (redis-server --cluster-enabled + redis-cli --cluster
// create), for the "several redis.urls → cluster" path of the Redis adapter.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface RedisClusterHandle {
  urls: string[];
  stop(): Promise<void>;
}

export async function startRedisCluster(nodes = 3): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), "identra-redis-cluster-"));
  const ports: number[] = [];
  for (let i = 0; i < nodes; i++) ports.push(await freePort());
  const procs = ports.map((port) =>
    Bun.spawn(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--dir", dir],
      { cwd: dir, stdout: "ignore", stderr: "ignore" },
    ),
  );
  // Kill the nodes if this test process dies without stopping them (bun test fires no exit event).
  const pids = procs.map((p) => p.pid).join(" ");
  Bun.spawn(["sh", "-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done; kill -9 ${pids} 2>/dev/null; rm -rf '${dir}'`], { stdout: "ignore", stderr: "ignore" }).unref();
  const cli = (args: string[]) => Bun.spawnSync(["redis-cli", ...args], { stdout: "pipe", stderr: "pipe" });
  for (const port of ports) {
    for (let i = 0; i < 200 && cli(["-p", String(port), "ping"]).stdout.toString().trim() !== "PONG"; i++) await Bun.sleep(25);
  }
  const create = cli(["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
  if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr.toString()}`);
  for (let i = 0; i < 200 && !cli(["-p", String(ports[0]), "cluster", "info"]).stdout.toString().includes("cluster_state:ok"); i++) await Bun.sleep(50);
  return {
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    async stop() {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
