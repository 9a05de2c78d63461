// `bun run build` → dist/identra: one executable carrying the proto, the OpenAPI document and the
// Swagger UI assets, runnable from an empty directory.
import { $ } from "bun";

const out = process.argv.includes("--outfile") ? process.argv[process.argv.indexOf("--outfile") + 1]! : "dist/identra";
await $`bun build src/main.ts --compile --bytecode --minify --format=esm --sourcemap=none --outfile ${out}`;
const size = Bun.file(out).size;
console.log(`built ${out} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
