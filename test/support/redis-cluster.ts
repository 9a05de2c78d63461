// A real Redis Cluster on loopback (redis-server --cluster-enabled + redis-cli --cluster create), for
// the "several redis.urls → cluster" path of the Redis adapter. By default three masters and no
// replicas; with `replicasPerMaster: 1` each master gets a replica, so a master can be SIGKILLed and
// the cluster fails over to its replica (killMasterOf + waitForFailover).
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface RedisClusterOptions {
  /** Masters holding the 16384 slots. Default 3. */
  masters?: number;
  /** Replicas per master (redis-cli --cluster-replicas). Default 0. */
  replicasPerMaster?: number;
  /**
   * cluster-node-timeout in ms: how long a node may be unreachable before it is flagged as failing,
   * so roughly how soon a replica takes over. Default: Redis' own (15000).
   */
  nodeTimeoutMs?: number;
}

/** One line of CLUSTER NODES, as one node sees the cluster. */
export interface ClusterNode {
  id: string;
  port: number;
  role: "master" | "replica";
  /** The master's id, for a replica. */
  masterId: string | null;
  /** Flagged `fail` (agreed) or `fail?` (suspected) by the node that answered. */
  failing: boolean;
  /** Slot ranges served, inclusive. */
  slots: [number, number][];
}

export interface KilledMaster {
  port: number;
  id: string;
  /** The slot of the key that was asked for. */
  slot: number;
  /** The slot ranges the killed master served. */
  slots: [number, number][];
  /** performance.now() right after the process was reaped. */
  killedAt: number;
}

export interface RedisClusterHandle {
  /** Every node, masters and replicas (what redis.urls would list). */
  urls: string[];
  ports: number[];
  /** CLUSTER KEYSLOT for each key (one redis-cli call for all). */
  keySlots(keys: string[]): Promise<number[]>;
  /** CLUSTER NODES as a live node sees it. */
  nodes(): Promise<ClusterNode[]>;
  /** The master serving `key`'s slot now. */
  masterOf(key: string): Promise<ClusterNode & { slot: number }>;
  /**
   * SIGKILLs the master serving `key`'s slot (no goodbye on any socket) and reaps it. First waits
   * until its replicas have applied everything it had written: replication is asynchronous, so
   * otherwise a test could not know which writes made before the kill survive it.
   */
  killMasterOf(key: string): Promise<KilledMaster>;
  /**
   * Resolves once every surviving node reports cluster_state:ok and agrees that a master other
   * than the killed one (its promoted replica) serves the killed master's slots.
   */
  waitForFailover(killed: KilledMaster, timeoutMs?: number): Promise<{ newMaster: ClusterNode; msSinceKill: number }>;
  stop(): Promise<void>;
}

/** redis-cli, asynchronously (the tests run an in-process server whose event loop must keep turning). */
const cli = async (args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> => {
  const proc = Bun.spawn(["redis-cli", ...args], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
};

export const parseClusterNodes = (out: string): ClusterNode[] =>
  out
    .trim()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      // <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slot> …
      const [id, address, flags, master, , , , , ...slots] = line.trim().split(/\s+/) as string[];
      const flagList = (flags ?? "").split(",");
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address ?? "")?.[1] ?? NaN),
        role: flagList.includes("master") ? "master" : "replica",
        masterId: master === "-" || master === undefined ? null : master,
        failing: flagList.includes("fail") || flagList.includes("fail?"),
        slots: slots
          .filter((s) => !s.startsWith("[")) // importing / migrating markers
          .map((s): [number, number] => {
            const [a, b] = s.split("-");
            return [Number(a), Number(b ?? a)];
          }),
      } satisfies ClusterNode;
    });

const serves = (node: ClusterNode, slot: number) => node.slots.some(([a, b]) => a <= slot && slot <= b);

export async function startRedisCluster(options: number | RedisClusterOptions = 3): Promise<RedisClusterHandle> {
  const { masters = 3, replicasPerMaster = 0, nodeTimeoutMs } = typeof options === "number" ? { masters: options } : options;
  const total = masters * (1 + replicasPerMaster);
  const dir = mkdtempSync(join(tmpdir(), "identra-redis-cluster-"));
  const ports: number[] = [];
  for (let i = 0; i < total; i++) ports.push(await freePort());
  const extra = [
    ...(nodeTimeoutMs === undefined ? [] : ["--cluster-node-timeout", String(nodeTimeoutMs)]),
    // A replica always stands for election, however long ago it last heard from its master, and
    // syncs at once (the diskless sync otherwise waits 5 s for more replicas to join).
    ...(replicasPerMaster > 0 ? ["--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0"] : []),
  ];
  const procs = new Map<number, Subprocess>(
    ports.map((port) => [
      port,
      Bun.spawn(
        ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--dir", dir, ...extra],
        { cwd: dir, stdout: "ignore", stderr: "ignore" },
      ),
    ]),
  );
  // Kill the nodes if this test process dies without stopping them (bun test fires no exit event).
  // The watchdog ends by itself once every node is gone, and only kills pids that are still a
  // redis-server (a node this file killed on purpose may have had its pid reused meanwhile).
  const pids = [...procs.values()].map((p) => p.pid).join(" ");
  const watchdog =
    `alive() { for p in ${pids}; do kill -0 $p 2>/dev/null && return 0; done; return 1; }; ` +
    `while kill -0 ${process.pid} 2>/dev/null && alive; do sleep 0.5; done; ` +
    `if ! kill -0 ${process.pid} 2>/dev/null; then for p in ${pids}; do grep -q redis-server /proc/$p/cmdline 2>/dev/null && kill -9 $p 2>/dev/null; done; rm -rf '${dir}'; fi`;
  Bun.spawn(["sh", "-c", watchdog], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).unref();

  const stop = async () => {
    for (const p of procs.values()) p.kill("SIGKILL");
    await Promise.all([...procs.values()].map((p) => p.exited));
    procs.clear();
    rmSync(dir, { recursive: true, force: true });
  };
  // A signalled process keeps exitCode null (Bun sets signalCode instead).
  const running = (p: Subprocess | undefined): p is Subprocess => p !== undefined && p.exitCode === null && p.signalCode === null;
  const livePorts = () => ports.filter((p) => running(procs.get(p)));
  const anyLive = () => {
    const port = livePorts()[0];
    if (port === undefined) throw new Error("no redis cluster node is running");
    return String(port);
  };
  const info = async (port: number) => (await cli(["-p", String(port), "cluster", "info"])).out;

  try {
    for (const port of ports) {
      for (let i = 0; (await cli(["-p", String(port), "ping"])).out.trim() !== "PONG"; i++) {
        if (i > 400) throw new Error(`redis cluster node ${port} did not start`);
        await Bun.sleep(25);
      }
    }
    const create = await cli(["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicasPerMaster), "--cluster-yes"]);
    if (create.code !== 0) throw new Error(`redis-cli --cluster create failed: ${create.err || create.out}`);
    // Ready when every node sees every other, all slots served, and each replica has synced: only
    // then can the surviving masters agree on a failure and elect a replica.
    const settled = async (port: number) => {
      const i = await info(port);
      if (!i.includes("cluster_state:ok") || !i.includes(`cluster_known_nodes:${total}`) || !i.includes("cluster_slots_ok:16384")) return false;
      const seen = parseClusterNodes((await cli(["-p", String(port), "cluster", "nodes"])).out);
      if (seen.filter((n) => n.role === "replica").length !== masters * replicasPerMaster) return false;
      if (!seen.find((n) => n.port === port && n.role === "replica")) return true;
      return (await cli(["-p", String(port), "info", "replication"])).out.includes("master_link_status:up");
    };
    for (let i = 0; !(await Promise.all(ports.map(settled))).every(Boolean); i++) {
      if (i > 400) throw new Error("redis cluster did not settle");
      await Bun.sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const nodes = async () => parseClusterNodes((await cli(["-p", anyLive(), "cluster", "nodes"])).out);
  const keySlots = async (keys: string[]) => {
    if (keys.length === 0) return [];
    // One CLUSTER KEYSLOT per stdin line; redis-cli quotes arguments like a shell, so quote each key.
    const r = await cli(["-p", anyLive()], keys.map((k) => `CLUSTER KEYSLOT "${k.replace(/(["\\])/g, "\\$1")}"\n`).join(""));
    const slots = r.out.trim().split("\n").map(Number);
    if (slots.length !== keys.length || slots.some((s) => !Number.isInteger(s))) throw new Error(`CLUSTER KEYSLOT: ${r.out}${r.err}`);
    return slots;
  };
  const masterOf = async (key: string) => {
    const [slot] = (await keySlots([key])) as [number];
    const owner = (await nodes()).find((n) => n.role === "master" && !n.failing && serves(n, slot));
    if (!owner) throw new Error(`no live master serves slot ${slot}`);
    return { ...owner, slot };
  };

  return {
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    ports,
    keySlots,
    nodes,
    masterOf,
    async killMasterOf(key) {
      const owner = await masterOf(key);
      const proc = procs.get(owner.port);
      if (!running(proc)) throw new Error(`master ${owner.port} is not running`);
      const offset = (out: string, field: string) => Number(new RegExp(`^${field}:(\\d+)`, "m").exec(out)?.[1] ?? NaN);
      const written = offset((await cli(["-p", String(owner.port), "info", "replication"])).out, "master_repl_offset");
      const replicas = (await nodes()).filter((n) => n.masterId === owner.id && running(procs.get(n.port)));
      for (const replica of replicas) {
        for (let i = 0; !(offset((await cli(["-p", String(replica.port), "info", "replication"])).out, "slave_repl_offset") >= written); i++) {
          if (i > 200) throw new Error(`replica ${replica.port} did not catch up with master ${owner.port}`);
          await Bun.sleep(10);
        }
      }
      proc.kill("SIGKILL");
      await proc.exited;
      return { port: owner.port, id: owner.id, slot: owner.slot, slots: owner.slots, killedAt: performance.now() };
    },
    async waitForFailover(killed, timeoutMs = 20_000) {
      const [first] = killed.slots[0] ?? [killed.slot];
      for (;;) {
        const views = await Promise.all(
          livePorts().map(async (port) => ({ ok: (await info(port)).includes("cluster_state:ok"), nodes: parseClusterNodes((await cli(["-p", String(port), "cluster", "nodes"])).out) })),
        );
        const owners = views.map((v) => v.nodes.find((n) => n.role === "master" && !n.failing && serves(n, first) && serves(n, killed.slot)));
        const owner = owners[0];
        if (views.every((v) => v.ok) && owner && owner.id !== killed.id && owners.every((o) => o?.id === owner.id)) {
          return { newMaster: owner, msSinceKill: Math.round(performance.now() - killed.killedAt) };
        }
        if (performance.now() - killed.killedAt > timeoutMs) throw new Error(`no failover within ${timeoutMs} ms after killing master ${killed.port}`);
        await Bun.sleep(50);
      }
    },
    stop,
  };
}
