// Shared helpers of the attack suite: one REST and one gRPC driver per server, SMTP settings for the
// sink, and assertions on contract errors.
import { expect } from "bun:test";
import { smtpEnv } from "../support/smtp-sink.ts";
import type { TestServer } from "../support/identra-server.ts";
import { grpcDriver, restDriver, type Driver, type RpcResult } from "../support/rpc-driver.ts";

export const TRANSPORTS = ["rest", "grpc"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** gRPC code numbers used by the assertions. */
export const GRPC = { INVALID_ARGUMENT: 3, UNAUTHENTICATED: 16, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ALREADY_EXISTS: 6 } as const;
const HTTP_OF: Record<number, number> = { 3: 400, 16: 401, 8: 429, 9: 400, 6: 409, 5: 404 };

export { smtpEnv };

/** Limits high enough that scenarios sharing 127.0.0.1 do not trip each other. */
export const ROOMY_LIMITS: Record<string, string> = {
  IDENTRA_AUTH_RATE_LIMIT_FAILED_LOGIN_MAX: "100000",
  IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_MAX: "100000",
  IDENTRA_AUTH_RATE_LIMIT_CODE_SEND_COOLDOWN: "0s",
};

export interface Drivers {
  rest: Driver;
  grpc: Driver;
  close(): void;
}

export const driversFor = (server: TestServer): Drivers => {
  const rest = restDriver(server.httpUrl);
  const grpc = grpcDriver(server.grpcAddress);
  return {
    rest,
    grpc,
    close() {
      rest.close();
      grpc.close();
    },
  };
};

/** The call failed with this gRPC code (and on REST the mapped HTTP status), and this message when given. */
export const expectFailure = (r: RpcResult, grpcCode: number, message?: string): void => {
  if (r.ok) throw new Error(`expected failure ${grpcCode}, got success: ${JSON.stringify(r.body).slice(0, 200)}`);
  expect({ code: r.grpcCode, message: message ?? r.message }).toEqual({ code: grpcCode, message: message ?? r.message });
  if (r.httpStatus !== undefined) expect(r.httpStatus).toBe(HTTP_OF[grpcCode] ?? r.httpStatus);
};

let seq = 0;
/** A fresh, valid, unique address. */
export const freshEmail = (tag: string): string => `${tag}-${Date.now().toString(36)}-${++seq}@example.com`;
