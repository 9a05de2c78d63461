// Shared by the fault tests (and the soak): a temp SQLite file for a server PROCESS, bounded
// parallel maps, integrity checks from outside the server, /proc figures and percentiles.
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RpcResult } from "../support/rpc-driver.ts";

/** A fresh directory with the database path the server should use; remove() deletes it. */
export function tempDatabase(tag: string): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `identra-${tag}-`));
  return { dir, path: join(dir, "users.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** All requests come from 127.0.0.1: keep the per-IP limits out of the way of load (rate-limits.test.ts covers them). */
export const ROOMY_LIMITS: Record<string, string> = {
  IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "1000000",
  IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "1000000",
};

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** PRAGMA integrity_check (and the row counts asked for) on a file no server holds open for writing. */
export function inspectDatabase(path: string, tables: string[] = ["users", "external_identities", "refresh_families", "signing_keys"]) {
  const db = new Database(path);
  try {
    db.run("PRAGMA busy_timeout = 5000");
    const integrity = (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    const counts = Object.fromEntries(tables.map((t) => [t, (db.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
    return { integrity, counts };
  } finally {
    db.close();
  }
}

/** VmRSS in KiB and the number of open file descriptors of a live process. */
export function processFigures(pid: number): { rssKiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return { rssKiB: rss, fds: readdirSync(`/proc/${pid}/fd`).length };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Resolves whether a NEW TCP connection to 127.0.0.1:port is accepted (false: refused or timed out). */
export const acceptsConnections = (port: number, timeoutMs = 1000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => done(true));
  });

/** A short form of a result for failure messages. */
export const brief = (r: RpcResult | unknown): string => {
  if (r && typeof r === "object" && "ok" in r) {
    const x = r as RpcResult;
    return x.ok ? "ok" : JSON.stringify({ grpcCode: x.grpcCode, reason: x.reason, message: x.message, httpStatus: x.httpStatus });
  }
  return String(r instanceof Error ? r.message : r);
};

/** Throws with the answer when `r` is not a success; returns the body. */
export function okBody(r: RpcResult, what: string): any {
  if (!r.ok) throw new Error(`${what}: expected success, got ${brief(r)}`);
  return r.body;
}
