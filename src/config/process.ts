import { readFileSync } from "node:fs";
import { loadConfig } from "./load.ts";
import type { Config } from "./types.ts";

/** The one place the process environment and config files are read. */
export function loadConfigFromProcess(argv: readonly string[]): Config {
  return loadConfig({ argv, env: process.env, readFile: (p) => readFileSync(p, "utf8") });
}
