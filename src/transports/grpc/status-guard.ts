// grpc-js answers some malformed calls itself, before any handler runs, and a few of those answers
// break the contract (found by fuzzing the HTTP/2 framing): a gzip-flagged message that does not
// decompress or an unparsable `grpc-timeout` header were INTERNAL (the contract: bad input is never
// INTERNAL), the timeout and encoding texts echoed the caller's header value, and a unary call with
// zero or two messages was UNIMPLEMENTED "... server streaming method". This interceptor rewrites
// exactly those statuses; every other status (the handlers' own included) passes through untouched.
//
// grpc-js raises them from its base call object via `this.sendStatus`, which interceptors cannot
// wrap the usual way, so the guard replaces that one method on the instance it is handed (the
// interceptor chain runs synchronously right after the base call is built, before any of these).
import { status, type ServerInterceptingCall, type ServerInterceptingCallInterface, type ServerInterceptor } from "@grpc/grpc-js";

type PartialStatusObject = Parameters<ServerInterceptingCallInterface["sendStatus"]>[0];

interface Rewrite {
  code: number;
  details: RegExp;
  to: { code: number; details: string };
}

const REWRITES: readonly Rewrite[] = [
  { code: status.INTERNAL, details: /^Invalid grpc-timeout value/, to: { code: status.INVALID_ARGUMENT, details: "invalid grpc-timeout header" } },
  { code: status.INTERNAL, details: /^Failed to decompress message/, to: { code: status.INVALID_ARGUMENT, details: "request message could not be decompressed" } },
  { code: status.INTERNAL, details: /^Error deserializing request/, to: { code: status.INVALID_ARGUMENT, details: "request message could not be decoded" } },
  { code: status.UNIMPLEMENTED, details: /^Received message compressed with unsupported encoding/, to: { code: status.UNIMPLEMENTED, details: "unsupported message encoding" } },
  { code: status.UNIMPLEMENTED, details: /^Received (no request message|a second request message) for/, to: { code: status.INVALID_ARGUMENT, details: "a unary call takes exactly one request message" } },
];

export const rewriteStatus = <S extends PartialStatusObject>(s: S): S => {
  const rule = REWRITES.find((r) => r.code === s.code && r.details.test(s.details ?? ""));
  return rule ? { ...s, code: rule.to.code, details: rule.to.details } : s;
};

export const statusGuard: ServerInterceptor = (_method, call) => {
  const base: ServerInterceptingCallInterface = call;
  const send = base.sendStatus.bind(base);
  base.sendStatus = (s) => send(rewriteStatus(s));
  // The declared return type is the class; grpc-js only uses the interface (as for the base call).
  return base as ServerInterceptingCall;
};
