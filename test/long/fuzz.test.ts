// The long fuzz run (IDENTRA_LONG_TESTS=1, `bun run test:long`): ≥ 10,000 inputs from the seeded
// generator in test/security/fuzz-kit.ts — malformed, truncated, wrongly-typed, deeply nested
// (depth 10,000), huge-number and random-byte requests at every REST route and every gRPC method
// (raw bytes through a pass-through serializer and valid-but-weird messages) — against Identra
// started as its own process. Several seeds, so each run covers new inputs while staying
// reproducible (set IDENTRA_FUZZ_SEED to replay one). Zero 5xx / INTERNAL-class answers, no input
// echoed, the process alive, a correct login on both transports afterwards, a clean SIGTERM exit.
import { describe, expect, test } from "bun:test";
import { runFuzz } from "../security/fuzz-kit.ts";

const LONG = process.env.IDENTRA_LONG_TESTS === "1";
const BASE_SEED = Number(process.env.IDENTRA_FUZZ_SEED ?? 424_242);
// Four processes, 40,000 inputs: a few seconds each on a laptop-class machine (well under the
// ~2 minute budget), and each a fresh server so one run's state cannot hide another's crash.
const RUNS = [
  { seed: BASE_SEED, restCount: 6000, grpcCount: 4000 },
  { seed: BASE_SEED + 1, restCount: 5000, grpcCount: 5000 },
  { seed: BASE_SEED + 2, restCount: 8000, grpcCount: 2000 },
  { seed: BASE_SEED + 3, restCount: 2000, grpcCount: 8000 },
];

describe.skipIf(!LONG)("long fuzz", () => {
  let total = 0;
  let totalMs = 0;
  for (const run of RUNS) {
    test(`${run.restCount + run.grpcCount} inputs (${run.restCount} REST, ${run.grpcCount} gRPC), seed ${run.seed}`, async () => {
      const report = await runFuzz({ ...run, concurrency: 16 }, (l) => console.log(`[fuzz ${run.seed}] ${l}`));
      total += report.rest + report.grpc + report.connectionErrors;
      totalMs += report.durationMs;
      console.log(
        `[fuzz ${run.seed}] ${report.rest} REST + ${report.grpc} gRPC answered in ${report.durationMs} ms ` +
          `(${Math.round(((report.rest + report.grpc) / report.durationMs) * 1000)}/s); connection errors ${report.connectionErrors}\n` +
          `  REST statuses ${JSON.stringify(report.restStatuses)}\n  gRPC codes ${JSON.stringify(report.grpcCodes)}`,
      );
      expect(report.failures).toEqual([]);
      expect(report.rest + report.grpc + report.connectionErrors).toBe(run.restCount + run.grpcCount);
      expect(report.connectionErrors).toBeLessThan((run.restCount + run.grpcCount) / 100);
      expect(report.aliveAfter).toBe(true);
      expect(report.loginAfter).toEqual({ rest: true, grpc: true });
      expect(report.unhandledErrorLines).toEqual([]);
      expect(report.exitCode).toBe(0);
    }, 150_000);
  }
  test("at least 10,000 inputs in total", () => {
    console.log(`[fuzz] total ${total} inputs, ${totalMs} ms of fuzzing`);
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});
