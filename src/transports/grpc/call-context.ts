// What a gRPC call tells us about its caller: bearer token and request id from metadata, client IP
// from the peer address (and `x-forwarded-for` metadata only when the peer is a trusted proxy).
import type { Metadata } from "@grpc/grpc-js";
import type { RequestContext } from "../../services/api.ts";
import { normalizeIp, resolveClientIp } from "../http/ip-cidr.ts";
import { parseBearer, sanitizeRequestId } from "../http/request-meta.ts";

/** `127.0.0.1:5000`, `::1:5000`, `[::1]:5000`, `ipv4:1.2.3.4:5` → the address alone. */
export const peerAddress = (peer: string): string => {
  const s = peer.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed?.[1]) return bracketed[1];
  const withoutPort = s.replace(/:\d+$/, "");
  if (withoutPort !== s && normalizeIp(withoutPort) !== null) return withoutPort;
  return s;
};

const first = (md: Metadata, key: string): string | null => {
  const v = md.get(key)[0];
  return typeof v === "string" ? v : null;
};

export interface CallLike {
  metadata: Metadata;
  getPeer(): string;
}

export const createCallContext =
  (deps: { isTrusted: (ip: string) => boolean; newRequestId: () => string }) =>
  (call: CallLike): RequestContext => ({
    clientIp: resolveClientIp({
      peer: peerAddress(call.getPeer()),
      forwardedFor: first(call.metadata, "x-forwarded-for"),
      realIp: first(call.metadata, "x-real-ip"),
      isTrusted: deps.isTrusted,
    }),
    bearerToken: parseBearer(first(call.metadata, "authorization")),
    requestId: sanitizeRequestId(first(call.metadata, "x-request-id")) ?? deps.newRequestId(),
  });
