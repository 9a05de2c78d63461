// The JSON log line is built as a string (the hot path logs one per request): it must always be valid
// JSON equal to what JSON.stringify of the scrubbed fields gives, whatever the values hold.
import { describe, expect, test } from "bun:test";
import { createLogger, jsonLine } from "../../src/adapters/system/logger.ts";

const TIME = "2026-11-30T02:30:33.922Z";

/** What the line must say: the envelope, then each field as JSON.stringify sees it, secrets redacted. */
const expected = (fields: Record<string, unknown>, configured: "debug" | "info") => {
  const out: Record<string, unknown> = { time: TIME, level: "info", msg: "m" };
  for (const [k, v] of Object.entries(fields)) {
    if (k === "time" || k === "level" || k === "msg") continue;
    if (/^(password|token|code|authorization)$/i.test(k)) out[k] = "[redacted]";
    else if (k === "email" && configured !== "debug") continue;
    else if (v instanceof Error) out[k] = v.message;
    else if (typeof v === "bigint") out[k] = String(v);
    else out[k] = v;
  }
  return JSON.parse(JSON.stringify(out));
};

// A small deterministic generator (mulberry32): the same cases on every run.
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const NASTY = ['"', "\\", "\n", "\u0000", "\u2028", "\ud800", "é", "😀", "</script>", "\t", "\u007f"];

const randomString = (r: () => number): string => {
  let s = "";
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += r() < 0.3 ? NASTY[Math.floor(r() * NASTY.length)] : String.fromCharCode(32 + Math.floor(r() * 95));
  return r() < 0.05 ? s.repeat(40) : s; // now and then longer than the plain fast path takes
};

const randomValue = (r: () => number): unknown => {
  const pick = Math.floor(r() * 10);
  switch (pick) {
    case 0:
      return randomString(r);
    case 1:
      return [0, -1.5, 1e21, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -0][Math.floor(r() * 7)];
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return { nested: randomString(r), n: [1, "x"] };
    case 6:
      return new Error(randomString(r));
    case 7:
      return BigInt(Math.floor(r() * 1e6));
    default:
      return randomString(r);
  }
};

const KEYS = ["method", "route", "status", "durationMs", "requestId", "email", "password", "token", "Code", "msg", "time", "ünï", 'q"k', "a\nb"];

describe("jsonLine", () => {
  test("equals JSON.stringify of the scrubbed fields for 5,000 random field sets", () => {
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      const fields: Record<string, unknown> = {};
      const n = Math.floor(r() * 6);
      for (let j = 0; j < n; j++) fields[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r);
      const configured = r() < 0.5 ? "debug" : "info";
      const line = jsonLine(TIME, "info", "m", fields, configured);
      expect(JSON.parse(line)).toEqual(expected(fields, configured));
    }
  });

  test("the access-log shape comes out field for field", () => {
    const line = jsonLine(TIME, "info", "http request", { method: "GET", route: "/api/.well-known/jwks.json", status: 304, durationMs: 0.04, requestId: "r-1", email: undefined }, "info");
    expect(line).toBe(
      `{"time":"${TIME}","level":"info","msg":"http request","method":"GET","route":"/api/.well-known/jwks.json","status":304,"durationMs":0.04,"requestId":"r-1"}`,
    );
  });

  test("a value that cannot be serialised is named, not thrown", () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(JSON.parse(jsonLine(TIME, "warn", "m", { loop }, "info"))).toEqual({ time: TIME, level: "warn", msg: "m", loop: "[unserializable]" });
  });

  test("the logger writes exactly these lines, and only at or above its level", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", now: () => Date.parse(TIME), write: (l) => void lines.push(l) });
    logger.debug("hidden", { a: 1 });
    logger.info("shown", { a: 1, password: "hunter2", email: "a@b.example" });
    expect(lines).toEqual([`{"time":"${TIME}","level":"info","msg":"shown","a":1,"password":"[redacted]"}`]);
  });
});
