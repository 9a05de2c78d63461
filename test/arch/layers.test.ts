// Architecture rules (docs/architecture.md): which layer may import which, and who reads the environment.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "../..");
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
const src = files(join(root, "src")).map((f) => relative(root, f));
const importsOf = (file: string) => [...readFileSync(join(root, file), "utf8").matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]!);

const rules: { layer: string; forbidden: RegExp; why: string }[] = [
  { layer: "src/domain/", forbidden: /\/(ports|services|adapters|transports|config)\/|^(elysia|@grpc|ioredis|mongodb|nodemailer|bun:)/, why: "domain is pure" },
  { layer: "src/ports/", forbidden: /\/(services|adapters|transports|config)\/|^(elysia|@grpc|ioredis|mongodb|nodemailer|bun:)/, why: "ports are interfaces" },
  { layer: "src/services/", forbidden: /\/(adapters|transports|config)\/|generated\/|^(elysia|@grpc|ioredis|mongodb|nodemailer|@node-rs|bun:)/, why: "services never reach transports or adapters" },
  { layer: "src/adapters/", forbidden: /\/(services|transports)\/|generated\//, why: "adapters implement ports only" },
  { layer: "src/transports/", forbidden: /\/adapters\//, why: "transports call the service, not the adapters" },
];

for (const rule of rules) {
  test(`${rule.layer}: ${rule.why}`, () => {
    const offenders = src.filter((f) => f.startsWith(rule.layer)).flatMap((f) => importsOf(f).filter((i) => rule.forbidden.test(i)).map((i) => `${f} → ${i}`));
    expect(offenders).toEqual([]);
  });
}

test("only src/config reads process.env", () => {
  const offenders = src.filter((f) => !f.startsWith("src/config/") && /process\.env/.test(readFileSync(join(root, f), "utf8")));
  expect(offenders).toEqual([]);
});

test("only the system adapters call Date.now() or read randomness directly", () => {
  const pattern = /Date\.now\(\)|crypto\.getRandomValues|Math\.random\(\)|randomBytes\(|randomUUID\(/;
  const allowed = (f: string) => f.startsWith("src/adapters/system/") || f === "src/main.ts" || f.startsWith("src/cli/");
  const offenders = src.filter((f) => !allowed(f) && pattern.test(readFileSync(join(root, f), "utf8")));
  expect(offenders).toEqual([]);
});
