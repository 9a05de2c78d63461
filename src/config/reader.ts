// Typed, validated reads of merged configuration values. Environment values arrive as strings.
import { ConfigError } from "./errors.ts";
import { parseDuration } from "./duration.ts";
import type { RawConfig } from "./sources.ts";

export function createReader(raw: RawConfig) {
  const get = (key: string): unknown => {
    if (!raw.has(key)) throw new ConfigError(key, "unknown key");
    return raw.get(key);
  };
  const str = (key: string): string => {
    const v = get(key);
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new ConfigError(key, "must be a string");
  };
  const int = (key: string, min: number, max: number): number => {
    const v = get(key);
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(key, `must be an integer between ${min} and ${max}`);
    }
    return n;
  };
  const bool = (key: string): boolean => {
    const v = get(key);
    if (typeof v === "boolean") return v;
    if (typeof v === "string") {
      const t = v.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return true;
      if (["false", "0", "no", "off", ""].includes(t)) return false;
    }
    throw new ConfigError(key, "must be true or false");
  };
  const list = (key: string): string[] => {
    const v = get(key);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.map((x) => x.trim()).filter(Boolean);
    if (typeof v === "string") return v.split(",").map((x) => x.trim()).filter(Boolean);
    throw new ConfigError(key, "must be a list of strings");
  };
  const duration = (key: string, minMs = 1): number => {
    const ms = parseDuration(str(key));
    if (ms === null) throw new ConfigError(key, `must be a duration like 10s, 15m or 168h`);
    if (ms < minMs) throw new ConfigError(key, `must be at least ${minMs} ms`);
    return ms;
  };
  const oneOf = <T extends string>(key: string, values: readonly T[]): T => {
    const v = str(key).trim();
    const found = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!found) throw new ConfigError(key, `must be one of ${values.join(", ")}`);
    return found;
  };
  const url = (key: string, allowEmpty = false): string => {
    const v = str(key).trim();
    if (allowEmpty && v === "") return v;
    if (!URL.canParse(v) || !/^https?:$/.test(new URL(v).protocol)) throw new ConfigError(key, "must be an http(s) URL");
    return v.replace(/\/+$/, "");
  };
  return { str, int, bool, list, duration, oneOf, url };
}

export type ConfigReader = ReturnType<typeof createReader>;
