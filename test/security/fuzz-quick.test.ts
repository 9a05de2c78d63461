// The quick fuzz run: 500 inputs from the same seeded generator as the long run
// (test/long/fuzz.test.ts, ≥ 10,000 inputs behind IDENTRA_LONG_TESTS=1), against Identra started as
// its own process. Zero 5xx / INTERNAL-class answers, no input echoed, the process alive and still
// logging in correctly afterwards, no unhandled-error log line, and a clean exit on SIGTERM.
import { expect, test } from "bun:test";
import { runFuzz } from "./fuzz-kit.ts";

const SEED = Number(process.env.IDENTRA_FUZZ_SEED ?? 20_260_601);

test(`quick fuzz: 500 malformed REST and gRPC inputs (seed ${SEED})`, async () => {
  const report = await runFuzz({ seed: SEED, restCount: 300, grpcCount: 200, concurrency: 8 });
  console.log(
    `[fuzz-quick] seed ${report.seed}: ${report.rest} REST + ${report.grpc} gRPC in ${report.durationMs} ms; ` +
      `REST ${JSON.stringify(report.restStatuses)}; gRPC ${JSON.stringify(report.grpcCodes)}; connection errors ${report.connectionErrors}`,
  );
  expect(report.failures).toEqual([]);
  expect(report.rest + report.grpc + report.connectionErrors).toBe(500);
  expect(report.aliveAfter).toBe(true);
  expect(report.loginAfter).toEqual({ rest: true, grpc: true });
  expect(report.unhandledErrorLines).toEqual([]);
  expect(report.exitCode).toBe(0);
}, 60_000);
