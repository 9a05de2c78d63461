// Any failure → a gRPC status: the code from THE error table, the message, and the stable reason twice
// (trailing metadata `x-error-reason`, and the rich status `grpc-status-details-bin` carrying a
// google.rpc.Status with a google.rpc.ErrorInfo), so gRPC clients branch on the same reason as REST.
import { Metadata, type ServerErrorResponse } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { ERROR_DOMAIN, ERROR_INFO_TYPE, toPublicError } from "../error-table.ts";
import richStatusProto from "./protos/rich-status.proto" with { type: "text" };

const richRoot = protobuf.parse(richStatusProto, { keepCase: true }).root;
const StatusType = richRoot.lookupType("google.rpc.Status");
const ErrorInfoType = richRoot.lookupType("google.rpc.ErrorInfo");

export const REASON_METADATA_KEY = "x-error-reason";
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** Encodes google.rpc.Status{code, message, details:[Any(ErrorInfo)]}. */
export const encodeRichStatus = (code: number, message: string, reason: string): Buffer => {
  const info = ErrorInfoType.encode(ErrorInfoType.create({ reason, domain: ERROR_DOMAIN })).finish();
  const status = StatusType.create({ code, message, details: [{ type_url: ERROR_INFO_TYPE, value: info }] });
  return Buffer.from(StatusType.encode(status).finish());
};

/** Decodes a `grpc-status-details-bin` value (for tests and clients of this module). */
export const decodeRichStatus = (bytes: Uint8Array): { code: number; message: string; reasons: string[] } => {
  const s = StatusType.toObject(StatusType.decode(bytes), { defaults: true }) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  const reasons = s.details
    .filter((d) => d.type_url === ERROR_INFO_TYPE)
    .map((d) => String((ErrorInfoType.toObject(ErrorInfoType.decode(d.value)) as { reason?: string }).reason ?? ""));
  return { code: s.code, message: s.message, reasons };
};

export const toGrpcError = (err: unknown): ServerErrorResponse => {
  const pub = toPublicError(err);
  const metadata = new Metadata();
  metadata.set(REASON_METADATA_KEY, pub.reason);
  metadata.set(STATUS_DETAILS_KEY, encodeRichStatus(pub.mapping.grpc, pub.message, pub.reason));
  if (pub.reason === "RATE_LIMITED") {
    metadata.set("retry-after", String(Math.max(1, Math.ceil(pub.retryAfterSeconds ?? 60))));
  }
  const error = new Error(pub.message) as ServerErrorResponse;
  error.code = pub.mapping.grpc;
  error.details = pub.message;
  error.metadata = metadata;
  return error;
};
