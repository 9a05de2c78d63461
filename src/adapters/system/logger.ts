import type { Logger } from "../../ports/system.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/** Keys whose values never reach a log line, whatever the caller passes. */
const SECRET_KEYS = /^(password|pass|secret|client_secret|token|access_token|refresh_token|code|otp|authorization|cookie|private_key)$/i;

/** Copies the caller's fields into `out`, redacting secrets and dropping emails above debug level. */
function scrubInto(out: Record<string, unknown>, fields: Record<string, unknown> | undefined, level: Level): Record<string, unknown> {
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    if (SECRET_KEYS.test(k)) out[k] = "[redacted]";
    else if (k === "email" && level !== "debug") continue;
    else if (v instanceof Error) out[k] = v.message;
    else out[k] = v;
  }
  return out;
}

// The JSON line is written as a string, field by field, instead of copying the fields into a new
// object for JSON.stringify: every request logs a line, and that copy was most of the line's cost
// on the hottest route. The output is the same JSON (tested against JSON.stringify).

/** Printable ASCII without `"` and `\`: a JSON string needs no escaping. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const jsonString = (v: string): string => (v.length <= 256 && PLAIN.test(v) ? `"${v}"` : JSON.stringify(v));

/** `"key":` for a field, or null for a secret one; key names repeat, so each is worked out once. */
const keyPrefixes = new Map<string, string | null>();
const keyPrefix = (k: string): string | null => {
  let p = keyPrefixes.get(k);
  if (p === undefined) {
    p = SECRET_KEYS.test(k) ? null : `${jsonString(k)}:`;
    if (keyPrefixes.size < 1000) keyPrefixes.set(k, p);
  }
  return p;
};

/** A field's JSON value, or undefined for what JSON.stringify would leave out. Never throws. */
const jsonValue = (v: unknown): string | undefined => {
  switch (typeof v) {
    case "string":
      return jsonString(v);
    case "number":
      return Number.isFinite(v) ? String(v) : "null";
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return `"${v}"`;
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      if (v instanceof Error) return jsonString(v.message);
      try {
        return JSON.stringify(v);
      } catch {
        return '"[unserializable]"';
      }
  }
};

/** The envelope's own keys: a field cannot overwrite them. */
const ENVELOPE = new Set(["time", "level", "msg"]);

export function jsonLine(time: string, level: Level, msg: string, fields: Record<string, unknown> | undefined, configured: Level): string {
  let out = `{"time":${jsonString(time)},"level":"${level}","msg":${jsonString(msg)}`;
  for (const k in fields) {
    if (ENVELOPE.has(k)) continue;
    const prefix = keyPrefix(k);
    if (prefix === null) {
      out += `,${jsonString(k)}:"[redacted]"`;
      continue;
    }
    if (k === "email" && configured !== "debug") continue;
    const value = jsonValue(fields[k]);
    if (value !== undefined) out += `,${prefix}${value}`;
  }
  return `${out}}`;
}

/**
 * Lines go out in batches: one write per FLUSH_MS (or per FLUSH_BYTES, whichever comes first)
 * instead of one per line — under load a write per event-loop turn cost more than the rest of a
 * request's logging. A line reaches stdout at most FLUSH_MS late; all are flushed at exit.
 */
const FLUSH_MS = 10;
const FLUSH_BYTES = 32 * 1024;

function createBatchedStdout(): (line: string) => void {
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending) {
      const out = pending;
      pending = "";
      process.stdout.write(out);
    }
  };
  process.on("exit", flush);
  return (line) => {
    pending += line + "\n";
    if (pending.length >= FLUSH_BYTES) flush();
    else if (timer === undefined) timer = setTimeout(flush, FLUSH_MS);
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
    if (options.format === "json") write(jsonLine(time, level, msg, fields, options.level));
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
