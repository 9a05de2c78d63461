// Merges the three sources of configuration: embedded defaults ← file ← environment.
import defaultsText from "../../configs/default.toml" with { type: "text" };
import { ConfigError } from "./errors.ts";
import { envName, flatten, type Tree } from "./flatten.ts";

export interface ConfigSources {
  /** Command-line arguments after the subcommand (looked at for --config). */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

export type RawConfig = Map<string, unknown>;

function parseToml(text: string, origin: string): Tree {
  try {
    return Bun.TOML.parse(text) as Tree;
  } catch (e) {
    throw new ConfigError(origin, `not valid TOML (${(e as Error).message})`);
  }
}

export function configPath(sources: ConfigSources): string | null {
  const i = sources.argv.indexOf("--config");
  if (i >= 0) {
    const path = sources.argv[i + 1];
    if (!path) throw new ConfigError("--config", "a file path is required");
    return path;
  }
  const inline = sources.argv.find((a) => a.startsWith("--config="));
  if (inline) return inline.slice("--config=".length);
  return sources.env.IDENTRA_CONFIG || null;
}

export function mergeSources(sources: ConfigSources): RawConfig {
  const merged = flatten(parseToml(defaultsText, "configs/default.toml"));
  const path = configPath(sources);
  if (path) {
    let text: string;
    try {
      text = sources.readFile(path);
    } catch {
      throw new ConfigError("--config", `cannot read ${path}`);
    }
    for (const [key, value] of flatten(parseToml(text, path))) {
      if (!merged.has(key)) throw new ConfigError(key, `unknown key in ${path}`);
      merged.set(key, value);
    }
  }
  for (const key of merged.keys()) {
    const name = envName(key);
    // The prefixed name wins over the legacy unprefixed one.
    const value = sources.env[`IDENTRA_${name}`] ?? sources.env[name];
    if (value !== undefined) merged.set(key, value);
  }
  return merged;
}
