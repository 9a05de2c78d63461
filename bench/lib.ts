// Small helpers shared by the bench orchestrator, the load generator and the ceiling probes.
import { createServer } from "node:net";

/** Latency summary (milliseconds) of an unsorted list of samples. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: Float64Array | number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) return { p50: 0, p99: 0, max: 0 };
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(sorted[sorted.length - 1]!) };
}

/** A port that was free a moment ago on 127.0.0.1 (the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** VmRSS of a process in MiB (Linux /proc), or null when it cannot be read. */
export async function rssMiB(pid: number): Promise<number | null> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text();
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The one password every seeded user has (the hash is computed once and shared). */
export const SEED_PASSWORD = "bench-Passw0rd!";
export const seedEmail = (prefix: string, i: number) => `${prefix}${String(i).padStart(7, "0")}@bench.test`;

/** Argon2id parameters of configs/default.toml (auth.password.argon2). */
export const DEFAULT_ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
