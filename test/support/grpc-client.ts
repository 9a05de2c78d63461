// A real grpc-js client for the transport suites, built from generated/identra.proto: promisified
// unary calls by RPC name (with metadata), a raw-bytes caller, health Check, and a reflection client
// from its own small embedded proto (independent of the server's copy).
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import identraProto from "../../generated/identra.proto" with { type: "text" };

const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

const load = (text: string) => grpc.loadPackageDefinition(fromJSON(protobuf.parse(text, { keepCase: true }).root.toJSON(), OPTIONS));

const HEALTH_PROTO = `syntax = "proto3"; package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; } ServingStatus status = 1; }
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }`;

const reflectionProto = (pkg: string) => `syntax = "proto3"; package grpc.reflection.${pkg};
message ServerReflectionRequest { string host = 1; oneof message_request { string file_by_filename = 3; string file_containing_symbol = 4; string list_services = 7; } }
message ServerReflectionResponse { string valid_host = 1; ServerReflectionRequest original_request = 2;
  oneof message_response { FileDescriptorResponse file_descriptor_response = 4; ListServiceResponse list_services_response = 6; ErrorResponse error_response = 7; } }
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ListServiceResponse { repeated ServiceResponse service = 1; }
message ServiceResponse { string name = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
service ServerReflection { rpc ServerReflectionInfo(stream ServerReflectionRequest) returns (stream ServerReflectionResponse); }`;

type Ctor = new (address: string, creds: grpc.ChannelCredentials) => grpc.Client;
const ctorAt = (obj: grpc.GrpcObject, path: string): Ctor => {
  let cur: unknown = obj;
  for (const part of path.split(".")) cur = (cur as Record<string, unknown>)[part];
  return cur as Ctor;
};

export type Msg = Record<string, unknown>;

export interface UnaryResult {
  response: Msg;
  metadata: grpc.Metadata;
}

export const metadataOf = (entries: Record<string, string> = {}): grpc.Metadata => {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
};

export const createGrpcTestClient = (port: number) => {
  const address = `127.0.0.1:${port}`;
  const creds = grpc.credentials.createInsecure();
  const identra = new (ctorAt(load(identraProto), "identra.v1.IdentraService"))(address, creds);
  const health = new (ctorAt(load(HEALTH_PROTO), "grpc.health.v1.Health"))(address, creds);
  const reflection = {
    v1alpha: new (ctorAt(load(reflectionProto("v1alpha")), "grpc.reflection.v1alpha.ServerReflection"))(address, creds),
    v1: new (ctorAt(load(reflectionProto("v1")), "grpc.reflection.v1.ServerReflection"))(address, creds),
  };
  const raw = new grpc.Client(address, creds);

  const unaryOn = (client: grpc.Client, rpc: string, req: Msg, md: grpc.Metadata) =>
    new Promise<UnaryResult>((resolve, reject) => {
      let metadata = new grpc.Metadata();
      const fn = (client as unknown as Record<string, Function>)[rpc];
      if (typeof fn !== "function") return reject(new Error(`no RPC ${rpc}`));
      const call = fn.call(client, req, md, (err: grpc.ServiceError | null, response: Msg) =>
        err ? reject(err) : resolve({ response, metadata }),
      ) as grpc.ClientUnaryCall;
      call.on("metadata", (m: grpc.Metadata) => (metadata = m));
    });

  return {
    /** Calls `/identra.v1.IdentraService/<rpc>`; rejects with the grpc ServiceError. */
    call: (rpc: string, req: Msg = {}, md: Record<string, string> = {}) => unaryOn(identra, rpc, req, metadataOf(md)),
    healthCheck: (service = "") => unaryOn(health, "Check", { service }, new grpc.Metadata()),
    /** Sends raw request bytes to any method path; the response is returned undecoded. */
    rawCall: (path: string, bytes: Buffer) =>
      new Promise<Buffer>((resolve, reject) =>
        raw.makeUnaryRequest(path, () => bytes, (b: Buffer) => b, {}, new grpc.Metadata(), (err, res) =>
          err ? reject(err) : resolve(res as Buffer),
        ),
      ),
    /** One request on a reflection bidi stream, its first answer. */
    reflect: (version: "v1alpha" | "v1", req: Msg) =>
      new Promise<Msg>((resolve, reject) => {
        const stream = (reflection[version] as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<Msg, Msg> }).ServerReflectionInfo();
        stream.on("data", (res: Msg) => {
          resolve(res);
          stream.end();
        });
        stream.on("error", reject);
        stream.write({ host: "", ...req });
      }),
    close: () => {
      for (const c of [identra, health, reflection.v1alpha, reflection.v1, raw]) c.close();
    },
  };
};
export type GrpcTestClient = ReturnType<typeof createGrpcTestClient>;
