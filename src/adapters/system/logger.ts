import type { Logger } from "../../ports/system.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/** Keys whose values never reach a log line, whatever the caller passes. */
const SECRET_KEYS = /^(password|pass|secret|client_secret|token|access_token|refresh_token|code|otp|authorization|cookie|private_key)$/i;

/** Copies the caller's fields into `out`, redacting secrets and dropping emails above debug level. */
function scrubInto(out: Record<string, unknown>, fields: Record<string, unknown> | undefined, level: Level): Record<string, unknown> {
  for (const k in fields) {
    const v = fields[k];
    if (SECRET_KEYS.test(k)) out[k] = "[redacted]";
    else if (k === "email" && level !== "debug") continue;
    else if (v instanceof Error) out[k] = v.message;
    else out[k] = v;
  }
  return out;
}

/**
 * Lines written in the same turn of the event loop go out in one write: one syscall per batch
 * instead of one per request line. Flushed on the next tick and when the process exits.
 */
function createBatchedStdout(): (line: string) => void {
  let pending = "";
  const flush = () => {
    if (pending) {
      const out = pending;
      pending = "";
      process.stdout.write(out);
    }
  };
  process.on("exit", flush);
  return (line) => {
    if (!pending) setImmediate(flush);
    pending += line + "\n";
  };
}

export function createLogger(options: {
  level: Level;
  format: "json" | "pretty";
  now: () => number;
  write?: (line: string) => void;
}): Logger {
  const min = LEVELS[options.level];
  const write = options.write ?? createBatchedStdout();
  // Many lines share a millisecond under load: format each millisecond once.
  let lastMs = Number.NaN;
  let lastIso = "";
  const isoNow = (): string => {
    const ms = options.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    const time = isoNow();
    if (options.format === "json") write(JSON.stringify(scrubInto({ time, level, msg }, fields, options.level)));
    else {
      const extra = Object.entries(scrubInto({}, fields, options.level)).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
      write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra.length ? " " + extra.join(" ") : ""}`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
