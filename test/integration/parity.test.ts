// One table of failures thrown by the service, seen through REST and through gRPC: the same stable
// reason (ErrorInfo.reason vs x-error-reason / rich status) and matching codes on both.
import { afterAll, describe, expect, test } from "bun:test";
import type { ServiceError } from "@grpc/grpc-js";
import { AppError, ERROR_CODES, MESSAGES } from "../../src/domain/errors.ts";
import { ERROR_TABLE } from "../../src/transports/error-table.ts";
import { decodeRichStatus } from "../../src/transports/grpc/error-status.ts";
import { createGrpcServer } from "../../src/transports/grpc/server.ts";
import { createHttpServer } from "../../src/transports/http/server.ts";
import { createGrpcTestClient } from "../support/grpc-client.ts";
import { createFakeServices, createHttpClient, sequentialRequestIds, silentLogger, testConfig } from "../support/http-client.ts";

const fake = createFakeServices();
const deps = { api: fake.api, health: fake.health, config: testConfig(), logger: silentLogger(), newRequestId: sequentialRequestIds() };
const http = createHttpServer(deps);
const grpc = createGrpcServer(deps);
const rest = createHttpClient(`http://127.0.0.1:${(await http.start()).port}`);
const rpc = createGrpcTestClient((await grpc.start()).port);

afterAll(async () => {
  rpc.close();
  await Promise.all([http.stop(100), grpc.stop(100)]);
});

const SAMPLE_MESSAGES: Partial<Record<(typeof ERROR_CODES)[number], string>> = {
  INVALID_ARGUMENT: MESSAGES.emailAndPasswordRequired,
  INVALID_CREDENTIALS: MESSAGES.invalidCredentials,
  REFRESH_TOKEN_REVOKED: MESSAGES.refreshTokenRevoked,
  USER_EXISTS: MESSAGES.userExists,
  RATE_LIMITED: MESSAGES.tooManyFailed,
};

/** Every ErrorCode, so a new code without parity coverage cannot slip in; plus a non-AppError. */
const CASES: [string, unknown, string, string][] = [
  ...ERROR_CODES.map((reason): [string, unknown, string, string] => {
    const message = SAMPLE_MESSAGES[reason] ?? `sample ${reason.toLowerCase()}`;
    const shown = reason === "INTERNAL" ? "internal error" : message;
    return [reason, new AppError(reason, message, { retryAfterSeconds: 30 }), reason, shown];
  }),
  ["plain Error", new Error("boom with secret"), "INTERNAL", "internal error"],
];

const failure = async (p: Promise<unknown>): Promise<ServiceError> => {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("expected the gRPC call to fail");
};

describe("REST and gRPC agree on every failure", () => {
  test.each(CASES)("%s", async (_name, err, reason, message) => {
    fake.failWith("loginByPassword", err);
    const r = await rest.post("/api/password/login", { email: "a@b.c", password: "pw" });
    const g = await failure(rpc.call("LoginByPassword", { email: "a@b.c", password: "pw" }));

    const body = r.json as { code: number; message: string; details: { reason: string }[] };
    const mapping = ERROR_TABLE[reason as keyof typeof ERROR_TABLE];
    expect(r.status).toBe(mapping.http);
    expect(body.code).toBe(mapping.grpc);
    expect(g.code).toBe(body.code);

    expect(body.details[0]?.reason).toBe(reason);
    expect(g.metadata.get("x-error-reason")).toEqual([reason]);
    expect(decodeRichStatus(g.metadata.get("grpc-status-details-bin")[0] as Buffer).reasons).toEqual([reason]);

    expect(body.message).toBe(message);
    expect(g.details).toBe(message);

    if (reason === "RATE_LIMITED") {
      expect(r.headers.get("retry-after")).toBe("30");
      expect(g.metadata.get("retry-after")).toEqual(["30"]);
    }
  });
});
