// gRPC server reflection (grpc.reflection.v1 and v1alpha), implemented here so it needs nothing from
// disk at run time (@grpc/reflection reads its .proto from node_modules and fails in a compiled binary).
// Answers list_services, file_by_filename and file_containing_symbol with FileDescriptorProto bytes.
import { status, type ServerDuplexStream } from "@grpc/grpc-js";
import type { LoadedProto, ProtoFile } from "./proto-registry.ts";

type ReflectionRequest = {
  host?: string;
  message_request?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  list_services?: string;
};

interface ServedFile {
  file: ProtoFile;
  proto: LoadedProto;
}

export const createReflectionHandlers = (files: readonly ServedFile[]) => {
  // Descriptor bytes are read lazily (LoadedProto builds them on first use).
  const byName = new Map(files.map((f) => [f.file.name, f.proto]));
  const bySymbol = new Map<string, LoadedProto>();
  for (const f of files) for (const s of f.proto.symbols) bySymbol.set(s, f.proto);
  const services = files.flatMap((f) => f.proto.services).sort();

  const notFound = (message: string) => ({ error_response: { error_code: status.NOT_FOUND, error_message: message } });
  const descriptors = (proto: LoadedProto | undefined, what: string) =>
    proto ? { file_descriptor_response: { file_descriptor_proto: [proto.descriptorBytes] } } : notFound(`${what} not found`);

  const answer = (req: ReflectionRequest): Record<string, unknown> => {
    switch (req.message_request) {
      case "list_services":
        return { list_services_response: { service: services.map((name) => ({ name })) } };
      case "file_by_filename":
        return descriptors(byName.get(req.file_by_filename ?? ""), `file ${req.file_by_filename ?? ""}`);
      case "file_containing_symbol": {
        const symbol = (req.file_containing_symbol ?? "").replace(/^\./, "");
        return descriptors(bySymbol.get(symbol), `symbol ${symbol}`);
      }
      default:
        return { error_response: { error_code: status.UNIMPLEMENTED, error_message: "request type not supported" } };
    }
  };

  return {
    ServerReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, Record<string, unknown>>) => {
      call.on("data", (req: ReflectionRequest) => {
        call.write({ valid_host: req.host ?? "", original_request: req, ...answer(req) });
      });
      call.on("end", () => call.end());
      call.on("error", () => call.end());
    },
  };
};
