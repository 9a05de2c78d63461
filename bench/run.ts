// `bun run bench` — Identra against the machine's own ceilings, measured in the same run.
// See bench/README.md for the flags and how to read the output.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hash } from "@node-rs/argon2";
import type { LoadResult, LoadSpec, WorkloadId } from "./loadgen.ts";
import { DEFAULT_ARGON2, freePort, median, rssMiB, SEED_PASSWORD, sleep } from "./lib.ts";
import { seed } from "./seed.ts";

const ROOT = resolve(import.meta.dir, "..");
const BENCH = import.meta.dir;
const CORES = navigator.hardwareConcurrency || 2;

// ---- flags ------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(`--${f}`);
const flag = (f: string, dflt: string) => {
  const i = argv.indexOf(`--${f}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
if (has("help")) {
  process.stdout.write(`usage: bun run bench [--duration 10] [--concurrency 32] [--quick] [--source] [--alg RS256|ES256|EdDSA]
                     [--only W1,W2,...] [--users 1000] [--binary PATH] [--scale [--scale-users 1000000]] [--keep]\n`);
  process.exit(0);
}
const quick = has("quick");
const duration = Number(flag("duration", quick ? "3" : "10"));
const concurrency = Number(flag("concurrency", "32"));
const warmup = Number(flag("warmup", quick ? "0.5" : "1"));
const alg = flag("alg", "RS256");
const fromSource = has("source");
const only = new Set(flag("only", "W1,W2,W3,W4,W5,W6").split(",").map((s) => s.trim().toUpperCase()));
const baseUsers = Number(flag("users", "1000"));
const scale = has("scale");
const scaleUsers = Number(flag("scale-users", "1000000"));
const spawnSamples = Number(flag("starts", quick ? "3" : "7"));
const probeMs = Math.round(Math.min(duration, quick ? 2 : 5) * 1000);
if (!["RS256", "ES256", "EdDSA"].includes(alg)) throw new Error(`--alg must be RS256, ES256 or EdDSA (got ${alg})`);
if (!(duration > 0) || !(concurrency > 0)) throw new Error("--duration and --concurrency must be positive");

const work = mkdtempSync(join(tmpdir(), "identra-bench-"));
const figures: Record<string, unknown>[] = [];
const runStarted = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - runStarted) / 1000).toFixed(1)}s] ${line}\n`);
const emit = (figure: Record<string, unknown>) => {
  figures.push(figure);
  process.stdout.write(JSON.stringify(figure) + "\n");
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---- the server -------------------------------------------------------------------------------
let serverCmd: string[];
let binarySize: number | null = null;
async function prepareServer() {
  if (fromSource) {
    serverCmd = [process.execPath, join(ROOT, "src/main.ts"), "serve"];
    return;
  }
  const given = flag("binary", "");
  const out = given ? resolve(given) : join(work, "identra");
  if (!given) {
    log("building the executable (scripts/build.ts)…");
    const b = Bun.spawnSync([process.execPath, join(ROOT, "scripts/build.ts"), "--outfile", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (b.exitCode !== 0) {
      process.stderr.write(b.stderr.toString() + b.stdout.toString());
      throw new Error("build failed (use --source to bench the server from source)");
    }
  }
  binarySize = statSync(out).size;
  serverCmd = [out, "serve"];
}

interface Running {
  proc: Bun.Subprocess;
  http: string;
  grpc: string;
  httpPort: number;
  grpcPort: number;
  logFile: string;
  stop(): Promise<void>;
}

function serverEnv(dataDir: string, httpPort: number, grpcPort: number, smtpPort: number, extra: Record<string, string>): Record<string, string> {
  return {
    ...extra,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    IDENTRA_BIND_ADDRESS: "127.0.0.1",
    IDENTRA_HTTP_PORT: String(httpPort),
    IDENTRA_GRPC_PORT: String(grpcPort),
    IDENTRA_PERSISTENCE_TYPE: "sqlite",
    IDENTRA_PERSISTENCE_SQLITE_PATH: join(dataDir, "users.db"),
    IDENTRA_AUTH_SIGNING_ALGORITHM: alg,
    // The bench logs thousands of users in from one IP: lift the limits that would otherwise (rightly)
    // stop it. Nothing else is changed from configs/default.toml.
    IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "1000000",
    IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "1000000",
    IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s",
    IDENTRA_SMTP_MAILER_HOST: "127.0.0.1",
    IDENTRA_SMTP_MAILER_PORT: String(smtpPort),
    IDENTRA_SMTP_MAILER_FROM_EMAIL: "bench@identra.test",
    IDENTRA_SMTP_MAILER_SECURE: "false",
    IDENTRA_SMTP_MAILER_START_TLS: "false",
  };
}

/** Starts the server with fixed ports and waits for the first 200 from the JWKS endpoint. */
async function startServer(dataDir: string, smtpPort: number, tag: string, extraEnv: Record<string, string> = {}): Promise<Running & { readyMs: number }> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const logFile = join(work, `server-${tag}.log`);
  const http = `http://127.0.0.1:${httpPort}`;
  const t0 = performance.now();
  const proc = Bun.spawn(serverCmd, {
    cwd: work,
    env: serverEnv(dataDir, httpPort, grpcPort, smtpPort, extraEnv),
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile + ".err"),
  });
  let readyMs = -1;
  const deadline = t0 + 30_000;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null) break;
    try {
      const res = await fetch(`${http}/api/.well-known/jwks.json`);
      await res.arrayBuffer();
      if (res.status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(1);
  }
  if (readyMs < 0) {
    proc.kill("SIGKILL");
    const err = await Bun.file(logFile + ".err").text().catch(() => "");
    throw new Error(`server did not answer within 30 s (exit ${proc.exitCode}): ${err.slice(0, 500)}`);
  }
  return {
    proc,
    http,
    grpc: `127.0.0.1:${grpcPort}`,
    httpPort,
    grpcPort,
    logFile,
    readyMs,
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

// ---- load and ceilings ------------------------------------------------------------------------
/** CPU time in clock ticks (100/s): one process (all threads), its main thread, and the whole machine. */
async function cpuSample(pid: number | undefined) {
  const ticks = (stat: string) => {
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  };
  const cpu = (await Bun.file("/proc/stat").text()).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  let server = { all: 0, main: 0 };
  try {
    if (pid) server = { all: ticks(await Bun.file(`/proc/${pid}/stat`).text()), main: ticks(await Bun.file(`/proc/${pid}/task/${pid}/stat`).text()) };
  } catch {
    // process gone
  }
  return { t: performance.now(), busy: total - idle, server };
}

type Driven = LoadResult & { server_cpu_pct?: number; server_main_thread_cpu_pct?: number; server_cpu_ms_per_op?: number; other_cpu_pct?: number };

/**
 * Runs one load-generator process and, between its window marks, samples the server's CPU (all
 * threads and the main thread) and the machine's: server CPU per operation does not depend on how
 * much of the machine the server got, and `other_cpu_pct` (machine busy − server − load generator)
 * shows when something else was running.
 */
async function drive(spec: Omit<LoadSpec, "durationS" | "warmupS" | "concurrency"> & Partial<LoadSpec>, serverPid?: number): Promise<Driven> {
  const full: LoadSpec = { durationS: duration, warmupS: warmup, concurrency, ...spec };
  const p = Bun.spawn([process.execPath, join(BENCH, "loadgen.ts"), JSON.stringify(full)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), (full.durationS + full.warmupS + 120) * 1000);
  const marks: Record<string, Awaited<ReturnType<typeof cpuSample>>> = {};
  const readOut = async () => {
    let buf = "";
    let last = "";
    const decoder = new TextDecoder();
    for await (const chunk of p.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("mark ")) marks[line.slice(5)] = await cpuSample(serverPid);
        else if (line.trim()) last = line;
      }
    }
    return last || buf;
  };
  const [line, err] = await Promise.all([readOut(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (p.exitCode !== 0 || !line.startsWith("{")) throw new Error(`load generator for ${spec.workload} failed (exit ${p.exitCode}): ${err.slice(0, 800)}`);
  const result = JSON.parse(line) as Driven;
  const a = marks.start;
  const b = marks.end;
  if (a && b) {
    const s = (b.t - a.t) / 1000;
    const serverTicks = b.server.all - a.server.all;
    if (serverPid) {
      result.server_cpu_pct = Math.round(serverTicks / s);
      result.server_main_thread_cpu_pct = Math.round((b.server.main - a.server.main) / s);
      if (result.ops > 0) result.server_cpu_ms_per_op = round((serverTicks * 10) / result.ops, 4);
    }
    result.other_cpu_pct = Math.max(0, Math.round((b.busy - a.busy) / s - (serverPid ? serverTicks / s : 0) - result.loadgen_cpu_pct));
  }
  return result;
}

async function inWorkers<T>(file: string, n: number, message: T): Promise<number> {
  const counts = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((resolveCount, reject) => {
          const w = new Worker(join(BENCH, file));
          w.onmessage = (e: MessageEvent<number>) => {
            resolveCount(e.data);
            w.terminate();
          };
          w.onerror = (e) => reject(new Error(`${file}: ${e.message}`));
          w.postMessage(message);
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

function activeKeyPem(dataDir: string): string {
  const db = new Database(join(dataDir, "users.db"), { readonly: true });
  try {
    const row = db.query<{ private_key_pem: string }, [string]>("SELECT private_key_pem FROM signing_keys WHERE alg = ? AND state = 'ACTIVE'").get(alg);
    if (!row) throw new Error(`no ACTIVE ${alg} key in the store`);
    return row.private_key_pem;
  } finally {
    db.close();
  }
}

/** A probe's rate and its own CPU cost per operation (this process's CPU: the workers are its threads). */
interface Probe {
  rate: number;
  cpuMsPerOp: number;
}

async function probe(file: string, message: Record<string, unknown>): Promise<Probe> {
  const c0 = process.cpuUsage();
  const n = await inWorkers(file, CORES, { ...message, ms: probeMs });
  const c = process.cpuUsage(c0);
  return { rate: n / (probeMs / 1000), cpuMsPerOp: (c.user + c.system) / 1000 / Math.max(1, n) };
}

const signCeiling = (pem: string) => probe("sign-worker.ts", { pem, alg, lanes: 8 });
const hashCeiling = (phc: string) => probe("hash-worker.ts", { mode: "verify", phc, password: SEED_PASSWORD, params: DEFAULT_ARGON2 });

async function bareCeiling(bodyBytes: number): Promise<Driven> {
  const p = Bun.spawn([process.execPath, join(BENCH, "bare-server.ts"), String(bodyBytes)], { stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  let text = "";
  while (!/port=(\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bare server exited");
    text += new TextDecoder().decode(value);
  }
  const port = Number(/port=(\d+)/.exec(text)![1]);
  try {
    return await drive({ workload: "BARE", http: `http://127.0.0.1:${port}` }, p.pid);
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
}

// ---- reporting --------------------------------------------------------------------------------
interface Row {
  name: string;
  measured: string;
  ceiling: string;
  ratio: number | null;
  cpuRatio?: number | null;
  target: string;
  met: boolean | null;
}
const rows: Row[] = [];

interface Ceiling {
  name: string;
  value: number;
  /** Server-side CPU one operation costs at the ceiling (ms), for the CPU-normalised ratio. */
  cpuMsPerOp?: number;
}

function workloadFigure(r: Driven, label: string, ceiling: Ceiling | null, target: { min?: number; p99Below?: number } = {}, figure: string = r.workload) {
  const ratio = ceiling ? r.ops_per_s / ceiling.value : null;
  // The same ratio from CPU cost per operation (ceiling's ÷ server's): insensitive to how much of the
  // machine other processes took during the window.
  const cpuRatio = ceiling?.cpuMsPerOp && r.server_cpu_ms_per_op ? ceiling.cpuMsPerOp / r.server_cpu_ms_per_op : null;
  const checks: boolean[] = [r.errors === 0];
  if (target.min !== undefined && ratio !== null) checks.push(ratio >= target.min);
  if (target.p99Below !== undefined) checks.push(r.p99_ms < target.p99Below);
  const hasTarget = target.min !== undefined || target.p99Below !== undefined;
  const met = hasTarget ? checks.every(Boolean) : r.errors === 0 ? null : false;
  emit({ figure, label, ...r, ceiling: ceiling?.name ?? null, ceiling_ops_per_s: ceiling ? round(ceiling.value) : null, ratio: ratio === null ? null : round(ratio, 3), cpu_ratio: cpuRatio === null ? null : round(cpuRatio, 3), met });
  const tgt = [target.min !== undefined ? `≥ ${target.min} ×` : "", target.p99Below !== undefined ? `p99 < ${target.p99Below} ms` : ""].filter(Boolean).join(", ");
  rows.push({
    name: `${figure} ${label}`,
    measured: `${round(r.ops_per_s)} ops/s · p50 ${r.p50_ms} / p99 ${r.p99_ms} / max ${r.max_ms} ms · ${r.errors} errors${r.server_cpu_ms_per_op ? ` · server ${r.server_cpu_ms_per_op} ms CPU/op` : ""}${r.other_cpu_pct !== undefined ? ` · others' CPU ${r.other_cpu_pct} %` : ""}`,
    ceiling: ceiling ? `${round(ceiling.value)} ops/s (${ceiling.name})` : "—",
    ratio,
    cpuRatio,
    target: tgt || "errors = 0",
    met,
  });
}

function markdown(): string {
  const lines = ["| figure | measured | ceiling | ratio | ratio by CPU/op | target | met |", "| --- | --- | --- | --- | --- | --- | --- |"];
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? "—" : x.toFixed(2));
  for (const r of rows) lines.push(`| ${r.name} | ${r.measured} | ${r.ceiling} | ${fmt(r.ratio)} | ${fmt(r.cpuRatio)} | ${r.target} | ${r.met === null ? "—" : r.met ? "yes" : "**no**"} |`);
  return lines.join("\n");
}

// ---- the runs ---------------------------------------------------------------------------------
async function standardRun() {
  const phc = await hash(SEED_PASSWORD, { algorithm: 2, ...DEFAULT_ARGON2 });
  const dataDir = join(work, "data");
  const seeded = await seed({ db: join(dataDir, "users.db"), users: baseUsers, prefix: "u", passwordHash: phc });
  log(`seeded ${seeded.users} users in ${seeded.seconds} s`);
  const smtpPort = await freePort();

  // Spawn to first successful request: the first start also generates the signing key.
  const starts: number[] = [];
  let firstStart = 0;
  for (let i = 0; i <= spawnSamples; i++) {
    const s = await startServer(dataDir, smtpPort, `start${i}`);
    if (i === 0) firstStart = s.readyMs;
    else starts.push(s.readyMs);
    await s.stop();
  }
  const spawnMs = median(starts);
  emit({ figure: "spawn_to_first_response_ms", median: round(spawnMs), samples: starts.map((x) => round(x)), first_start_with_keygen_ms: round(firstStart), met: spawnMs < 100 });
  rows.push({ name: "spawn → first 200 (median)", measured: `${round(spawnMs)} ms (first start, with key generation: ${round(firstStart)} ms)`, ceiling: "—", ratio: null, target: "< 100 ms", met: spawnMs < 100 });

  const server = await startServer(dataDir, smtpPort, "main");
  log(`server up (${fromSource ? "source" : "binary"}, ${alg}) http=${server.httpPort} grpc=${server.grpcPort}`);
  try {
    await sleep(1000);
    const idle = (await rssMiB(server.proc.pid)) ?? -1;
    emit({ figure: "idle_rss_mib", value: idle, met: idle < 100 });
    rows.push({ name: "idle RSS", measured: `${idle} MiB`, ceiling: "—", ratio: null, target: "< 100 MB", met: idle < 100 });
    if (binarySize !== null) {
      emit({ figure: "binary_size_mib", value: round(binarySize / 1024 / 1024) });
      rows.push({ name: "binary size", measured: `${round(binarySize / 1024 / 1024)} MiB`, ceiling: "—", ratio: null, target: "—", met: null });
    }

    // Ceilings are measured on this machine in this run, each right next to the workloads it bounds
    // (the signing and hashing probes both before and after them, averaged), because the machine is
    // shared and its speed drifts: a ratio of two figures taken a minute apart would mean little.
    const pem = activeKeyPem(dataDir);
    const users = { prefix: "u", count: baseUsers };
    const tag = String(Date.now());
    const want = (w: string) => only.has(w);
    const run = async (w: WorkloadId) => {
      log(`${w}: ${duration} s at concurrency ${concurrency}…`);
      return drive({ workload: w, http: server.http, grpc: server.grpc, users, smtpPort, runTag: tag }, server.proc.pid);
    };
    const probeSign = async (when: string) => {
      log(`ceiling (${when}): ${alg} signing with the server's signToken on ${CORES} workers…`);
      const v = await signCeiling(pem);
      emit({ figure: "ceiling_sign", when, alg, signs_per_s: round(v.rate), cpu_ms_per_sign: round(v.cpuMsPerOp, 4), workers: CORES, refresh_ceiling: round(v.rate / 2) });
      return v;
    };
    const probeHash = async (when: string) => {
      log(`ceiling (${when}): Argon2id verify (m=${DEFAULT_ARGON2.memoryCost},t=${DEFAULT_ARGON2.timeCost},p=${DEFAULT_ARGON2.parallelism}) on ${CORES} workers…`);
      const v = await hashCeiling(phc);
      emit({ figure: "ceiling_argon2id", when, verifies_per_s: round(v.rate), cpu_ms_per_verify: round(v.cpuMsPerOp, 3), workers: CORES, params: DEFAULT_ARGON2 });
      return v;
    };

    if (want("W1")) {
      const jwksBytes = (await (await fetch(`${server.http}/api/.well-known/jwks.json`)).arrayBuffer()).byteLength;
      log(`ceiling: bare Bun.serve with a ${jwksBytes}-byte body…`);
      const bare = await bareCeiling(jwksBytes);
      emit({ figure: "ceiling_bare_bun_serve", body_bytes: jwksBytes, ...bare });
      const bareCeilingFigure = { name: "bare Bun.serve", value: bare.ops_per_s, cpuMsPerOp: bare.server_cpu_ms_per_op };
      workloadFigure(await run("W1"), "GET jwks.json", bareCeilingFigure, { min: 0.8, p99Below: 10 });
      // The same with log.jwks_requests = true (each request answered by JavaScript, access-logged and
      // counted): what the default's native serving buys, measured in every run. No target.
      const logged = await startServer(dataDir, smtpPort, "w1-logged", { IDENTRA_LOG_JWKS_REQUESTS: "true" });
      try {
        log(`W1 with log.jwks_requests = true: ${duration} s at concurrency ${concurrency}…`);
        const r = await drive({ workload: "W1", http: logged.http }, logged.proc.pid);
        workloadFigure(r, "GET jwks.json, log.jwks_requests = true", bareCeilingFigure, {}, "W1-logged");
      } finally {
        await logged.stop();
      }
    }
    if (want("W2") || want("W5")) {
      const before = await probeSign("before");
      const w2 = want("W2") ? await run("W2") : null;
      const w5 = want("W5") ? await run("W5") : null;
      const after = await probeSign("after");
      const refreshCeiling: Ceiling = { name: `${alg} sign rate / 2`, value: (before.rate + after.rate) / 4, cpuMsPerOp: before.cpuMsPerOp + after.cpuMsPerOp };
      if (w2) workloadFigure(w2, "REST refresh", refreshCeiling, alg === "RS256" ? { min: 0.8 } : {});
      if (w5) {
        workloadFigure(w5, "gRPC refresh", w2 ? { name: "W2", value: w2.ops_per_s, cpuMsPerOp: w2.server_cpu_ms_per_op } : refreshCeiling, w2 ? { min: 0.7 } : {});
        emit({ figure: "W5_vs_refresh_ceiling", ratio: round(w5.ops_per_s / refreshCeiling.value, 3), cpu_ratio: w5.server_cpu_ms_per_op ? round(refreshCeiling.cpuMsPerOp! / w5.server_cpu_ms_per_op, 3) : null });
      }
    }
    if (want("W3") || want("W4")) {
      const before = await probeHash("before");
      const w3 = want("W3") ? await run("W3") : null;
      const w4 = want("W4") ? await run("W4") : null;
      const after = await probeHash("after");
      const hash: Ceiling = { name: "Argon2id verify rate", value: (before.rate + after.rate) / 2, cpuMsPerOp: (before.cpuMsPerOp + after.cpuMsPerOp) / 2 };
      if (w3) workloadFigure(w3, "password login", hash, { min: 0.8 });
      if (w4) workloadFigure(w4, "first login (auto-register)", { ...hash, name: "Argon2id rate" });
    }
    if (want("W6")) workloadFigure(await run("W6"), "email code send + login", null);
    const after = (await rssMiB(server.proc.pid)) ?? -1;
    emit({ figure: "rss_after_run_mib", value: after });
    rows.push({ name: "RSS after the run", measured: `${after} MiB`, ceiling: "—", ratio: null, target: "—", met: null });
  } finally {
    await server.stop();
  }
}

async function scaleRun() {
  const phc = await hash(SEED_PASSWORD, { algorithm: 2, ...DEFAULT_ARGON2 });
  const smtpPort = await freePort();
  const sizes = [baseUsers, scaleUsers];
  const servers: Record<number, Running> = {};
  // Both stores are seeded and both servers started first; then the runs alternate small/big in
  // rounds (each run duration/rounds long), so drift on a shared machine hits both sizes alike.
  const rounds = Number(flag("rounds", "4"));
  try {
    for (const n of sizes) {
      const dataDir = join(work, `scale-${n}`);
      const s = await seed({ db: join(dataDir, "users.db"), users: n, prefix: "u", passwordHash: phc, log });
      log(`seeded ${n} users + ${s.families} refresh families in ${s.seconds} s`);
      emit({ figure: "seed", users: n, families: s.families, seconds: s.seconds, db_mib: round(statSync(join(dataDir, "users.db")).size / 1024 / 1024) });
      servers[n] = await startServer(dataDir, smtpPort, `scale-${n}`);
    }
    for (const w of ["W2", "W3"] as const) {
      const runs: Record<number, Driven[]> = { [baseUsers]: [], [scaleUsers]: [] };
      for (let r = 0; r < rounds; r++) {
        for (const n of sizes) {
          log(`${w} against ${n} users (round ${r + 1}/${rounds})…`);
          const server = servers[n]!;
          const res = await drive({ workload: w, http: server.http, grpc: server.grpc, users: { prefix: "u", count: n }, durationS: duration / rounds }, server.proc.pid);
          runs[n]!.push(res);
          emit({ figure: `${w}_at_${n}_users`, round: r + 1, ...res });
        }
      }
      const sum = (rs: Driven[]) => {
        const ops = rs.reduce((a, x) => a + x.ops, 0);
        const secs = rs.reduce((a, x) => a + x.duration_s, 0);
        const cpu = rs.reduce((a, x) => a + (x.server_cpu_ms_per_op ?? 0) * x.ops, 0) / Math.max(1, ops);
        return { ops, opsPerS: ops / secs, cpuMsPerOp: cpu, p99: Math.max(...rs.map((x) => x.p99_ms)), errors: rs.reduce((a, x) => a + x.errors, 0) };
      };
      const small = sum(runs[baseUsers]!);
      const big = sum(runs[scaleUsers]!);
      const slowdown = small.opsPerS / big.opsPerS;
      const cpuSlowdown = small.cpuMsPerOp > 0 ? big.cpuMsPerOp / small.cpuMsPerOp : null;
      const met = slowdown <= 1.2 && small.errors === 0 && big.errors === 0;
      emit({
        figure: `${w}_scale`,
        small_users: baseUsers,
        big_users: scaleUsers,
        small_ops_per_s: round(small.opsPerS),
        big_ops_per_s: round(big.opsPerS),
        slowdown: round(slowdown, 3),
        small_server_cpu_ms_per_op: round(small.cpuMsPerOp, 3),
        big_server_cpu_ms_per_op: round(big.cpuMsPerOp, 3),
        cpu_slowdown: cpuSlowdown === null ? null : round(cpuSlowdown, 3),
        small_p99_ms: small.p99,
        big_p99_ms: big.p99,
        errors: small.errors + big.errors,
        met,
      });
      rows.push({
        name: `${w} at ${scaleUsers.toLocaleString("en")} vs ${baseUsers.toLocaleString("en")} users`,
        measured: `${round(big.opsPerS)} vs ${round(small.opsPerS)} ops/s (worst p99 ${big.p99} vs ${small.p99} ms; server CPU ${round(big.cpuMsPerOp, 2)} vs ${round(small.cpuMsPerOp, 2)} ms/op)`,
        ceiling: "—",
        ratio: round(slowdown, 3),
        cpuRatio: cpuSlowdown,
        target: "slowdown ≤ 1.2 ×",
        met,
      });
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
}

let failed = false;
try {
  await prepareServer();
  if (scale) await scaleRun();
  else await standardRun();
} catch (e) {
  failed = true;
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
} finally {
  if (!has("keep")) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
const errors = figures.reduce((n, f) => n + (typeof f.errors === "number" && !String(f.figure).endsWith("_scale") ? f.errors : 0), 0);
const header = `Identra bench — ${fromSource ? "from source" : "compiled binary"}, ${alg}, ${CORES} cores, concurrency ${concurrency}, ${duration} s per workload (${new Date().toISOString()}, total ${round((performance.now() - runStarted) / 1000)} s)`;
const md = `${header}\n\n${markdown()}\n`;
process.stdout.write(`\n${md}`);
await Bun.write(join(BENCH, "results", scale ? "last-scale.md" : "last.md"), md);
await Bun.write(join(BENCH, "results", scale ? "last-scale.jsonl" : "last.jsonl"), figures.map((f) => JSON.stringify(f)).join("\n") + "\n");
if (failed || errors > 0) {
  process.stderr.write(failed ? "bench: FAILED\n" : `bench: ${errors} request errors (must be 0)\n`);
  process.exit(1);
}
