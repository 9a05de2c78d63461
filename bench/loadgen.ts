// The load generator: a separate `bun` process (never the server's) that drives ONE workload at a
// fixed concurrency for a fixed time and prints one JSON result line on stdout.
//
//   bun bench/loadgen.ts '<LoadSpec as JSON>'
//
// Every lane runs `op()` back to back; an op counts when it completes inside the measuring window
// (after the warm-up). Latency is measured per op from its start to its response being read.
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { SMTPServer } from "smtp-server";
import protoText from "../generated/identra.proto" with { type: "text" };
import { SEED_PASSWORD, seedEmail, summarize } from "./lib.ts";

export type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W5" | "W6" | "BARE";

export interface LoadSpec {
  workload: WorkloadId;
  /** http://127.0.0.1:PORT */
  http: string;
  /** 127.0.0.1:PORT (W5) */
  grpc?: string;
  durationS: number;
  warmupS: number;
  concurrency: number;
  /** Seeded users: `<prefix><index>@bench.test`, index in [0, count). */
  users?: { prefix: string; count: number };
  /** W6: the SMTP port the server was configured with; the sink listens there. */
  smtpPort?: number;
  /** W4/W6: unique prefix for the e-mail addresses this run creates. */
  runTag?: string;
}

export interface LoadResult {
  workload: WorkloadId;
  ops: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  errors: number;
  error_samples: string[];
  duration_s: number;
  concurrency: number;
  loadgen_cpu_pct: number;
}

type Op = (lane: number) => Promise<void>;

const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
const jsonHeaders = { "content-type": "application/json" };
const errorSamples: string[] = [];
const noteError = (e: unknown) => {
  if (errorSamples.length < 5) errorSamples.push(e instanceof Error ? e.message : String(e));
};

async function postJson(path: string, body: unknown): Promise<any> {
  const res = await fetch(spec.http + path, { method: "POST", headers: jsonHeaders, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path} → HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

const randomUser = () => {
  const u = spec.users!;
  return seedEmail(u.prefix, Math.floor(Math.random() * u.count));
};

async function login(email: string): Promise<string> {
  const r = await postJson("/api/password/login", { email, password: SEED_PASSWORD });
  const token = r?.token?.refreshToken?.token;
  if (typeof token !== "string") throw new Error("login: no refresh token in the answer");
  return token;
}

/** One refresh token per lane to start from, made by logins of seeded users (not timed). */
async function tokenPool(n: number): Promise<string[]> {
  const out: string[] = [];
  const lanes = Math.min(n, 8);
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < n) {
        next++;
        out.push(await login(randomUser()));
      }
    }),
  );
  return out;
}

function grpcClient(address: string): grpc.Client & Record<string, any> {
  const root = protobuf.parse(protoText, { keepCase: true }).root;
  const def = fromJSON(root.toJSON(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return new pkg.identra.v1.IdentraService(address, grpc.credentials.createInsecure());
}

/** A minimal SMTP sink on the given port: hands each login code to whoever waits for that address. */
async function startSink(port: number) {
  const waiting = new Map<string, (code: string) => void>();
  const early = new Map<string, string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const code = /^ {4}(\d{6})\s*$/m.exec(raw)?.[1] ?? "";
        for (const r of session.envelope.rcptTo) {
          const to = r.address.toLowerCase();
          const wake = waiting.get(to);
          if (wake) {
            waiting.delete(to);
            wake(code);
          } else early.set(to, code);
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  server.on("error", () => {});
  return {
    codeFor(to: string, timeoutMs = 10_000): Promise<string> {
      const have = early.get(to);
      if (have !== undefined) {
        early.delete(to);
        return Promise.resolve(have);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(to);
          reject(new Error(`no mail to ${to}`));
        }, timeoutMs);
        waiting.set(to, (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function prepare(): Promise<{ op: Op; close?: () => Promise<void> | void }> {
  switch (spec.workload) {
    case "W1":
    case "BARE": {
      const url = spec.http + "/api/.well-known/jwks.json";
      return {
        op: async () => {
          const res = await fetch(url);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`jwks → HTTP ${res.status}`);
        },
      };
    }
    case "W2": {
      const queue = await tokenPool(spec.concurrency * 2);
      return {
        op: async () => {
          const token = queue.shift() ?? (await login(randomUser()));
          const r = await postJson("/api/token/refresh", { refresh_token: token });
          const next = r?.token?.refreshToken?.token;
          if (typeof next !== "string") throw new Error("refresh: no refresh token in the answer");
          queue.push(next);
        },
      };
    }
    case "W3":
      return {
        op: async () => {
          await login(randomUser());
        },
      };
    case "W4": {
      let n = 0;
      const tag = spec.runTag ?? String(Date.now());
      return {
        op: async () => {
          await login(`new-${tag}-${n++}@bench.test`);
        },
      };
    }
    case "W5": {
      const queue = await tokenPool(spec.concurrency * 2);
      const client = grpcClient(spec.grpc!); // one channel for this load-generator process
      await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())));
      const refresh = (token: string) =>
        new Promise<any>((resolve, reject) =>
          client.RefreshToken({ refresh_token: token }, { deadline: Date.now() + 20_000 }, (err: grpc.ServiceError | null, res: any) =>
            err ? reject(new Error(`gRPC ${err.code}: ${err.details}`)) : resolve(res),
          ),
        );
      return {
        op: async () => {
          const token = queue.shift() ?? (await login(randomUser()));
          const r = await refresh(token);
          const next = r?.token?.refresh_token?.token;
          if (typeof next !== "string" || !next) throw new Error("gRPC refresh: no refresh token in the answer");
          queue.push(next);
        },
        close: () => client.close(),
      };
    }
    case "W6": {
      const sink = await startSink(spec.smtpPort!);
      const tag = spec.runTag ?? String(Date.now());
      // One address per lane, reused: the first op creates the user, later ones log it in again.
      return {
        op: async (lane) => {
          const email = `mail-${tag}-${lane}@bench.test`;
          const code = sink.codeFor(email);
          code.catch(() => {});
          await postJson("/api/email/code", { email });
          const r = await postJson("/api/email/login", { email, code: await code });
          if (typeof r?.token?.accessToken?.token !== "string") throw new Error("email login: no token");
        },
        close: () => sink.stop(),
      };
    }
  }
}

async function main() {
  const { op, close } = await prepare();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const windowStart = start + spec.warmupS * 1000;
  const windowEnd = windowStart + spec.durationS * 1000;
  const latencies: number[] = [];
  let errors = 0;
  // Tell the orchestrator when the measuring window opens and closes (it samples the server's CPU).
  const mark = (what: string) => process.stdout.write(`mark ${what}\n`);
  const t1 = setTimeout(() => mark("start"), windowStart - performance.now());
  const t2 = setTimeout(() => mark("end"), windowEnd - performance.now());
  await Promise.all(
    Array.from({ length: spec.concurrency }, async (_, lane) => {
      while (performance.now() < windowEnd) {
        const t0 = performance.now();
        let failed = false;
        try {
          await op(lane);
        } catch (e) {
          failed = true;
          noteError(e);
        }
        const t1 = performance.now();
        if (t1 >= windowStart && t1 < windowEnd) {
          if (failed) errors++;
          else latencies.push(t1 - t0);
        }
      }
    }),
  );
  clearTimeout(t1);
  clearTimeout(t2);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - start;
  await close?.();
  const s = summarize(latencies);
  const result: LoadResult = {
    workload: spec.workload,
    ops: latencies.length,
    ops_per_s: Math.round((latencies.length / spec.durationS) * 10) / 10,
    p50_ms: s.p50,
    p99_ms: s.p99,
    max_ms: s.max,
    errors,
    error_samples: errorSamples,
    duration_s: spec.durationS,
    concurrency: spec.concurrency,
    loadgen_cpu_pct: Math.round(((cpu.user + cpu.system) / 1000 / elapsed) * 100),
  };
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`loadgen: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
