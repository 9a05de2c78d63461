// Every proto the gRPC server serves, loaded from text embedded into the executable (no file reads at
// run time): grpc-js service definitions built from protobufjs types, and the FileDescriptorProto
// bytes server reflection answers with.
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import identraProto from "../../../generated/identra.proto" with { type: "text" };
import healthProto from "./protos/health.proto" with { type: "text" };
import reflectionV1Proto from "./protos/reflection-v1.proto" with { type: "text" };
import reflectionV1alphaProto from "./protos/reflection-v1alpha.proto" with { type: "text" };

/**
 * How messages become objects: proto-loader's `{ keepCase, longs: String, enums: String, defaults,
 * oneofs }` — the options the clients' loaders use too (`keepCase` is applied when parsing).
 */
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

// The service definitions are built here rather than by proto-loader's `fromJSON`, which also
// encodes a descriptor for every message (≈ 15 ms of the server's start for identra.proto) that the
// server never reads. Serialisation is proto-loader's: `fromObject` + `encode`, `decode` + `toObject`.
const serializer = (type: protobuf.Type) => (value: object): Buffer => {
  if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
  // protobufjs writes into a Buffer when one exists (as in Bun): no copy is needed.
  return type.encode(type.fromObject(value)).finish() as Buffer;
};
const deserializer = (type: protobuf.Type) => (bytes: Buffer): object => type.toObject(type.decode(bytes), TO_OBJECT);

const serviceDefinition = (service: protobuf.Service): ServiceDefinition => {
  const name = service.fullName.replace(/^\./, "");
  const out: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (!request || !response) throw new Error(`${name}.${method.name}: unresolved message types`);
    out[method.name] = {
      path: `/${name}/${method.name}`,
      requestStream: !!method.requestStream,
      responseStream: !!method.responseStream,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return out as ServiceDefinition;
};

export interface ProtoFile {
  /** File name as reflection reports it. */
  name: string;
  text: string;
}

export const PROTO_FILES = {
  identra: { name: "identra/v1/identra.proto", text: identraProto },
  health: { name: "grpc/health/v1/health.proto", text: healthProto },
  reflectionV1alpha: { name: "grpc/reflection/v1alpha/reflection.proto", text: reflectionV1alphaProto },
  reflectionV1: { name: "grpc/reflection/v1/reflection.proto", text: reflectionV1Proto },
} as const satisfies Record<string, ProtoFile>;

export interface LoadedProto {
  root: protobuf.Root;
  /** A service definition by its full name (e.g. `identra.v1.IdentraService`). */
  service(fullName: string): ServiceDefinition;
  /** Encoded FileDescriptorProto of this file (single package, no imports). */
  descriptorBytes: Uint8Array;
  /** Fully qualified names of every message, enum, service and method defined here. */
  symbols: string[];
  services: string[];
}

const collectSymbols = (ns: protobuf.NamespaceBase, out: string[], services: string[]): void => {
  for (const nested of ns.nestedArray) {
    const name = nested.fullName.replace(/^\./, "");
    if (nested instanceof protobuf.Service) {
      out.push(name);
      services.push(name);
      for (const m of nested.methodsArray) out.push(`${name}.${m.name}`);
    } else if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) {
      out.push(name);
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collectSymbols(nested, out, services);
  }
};

interface DescriptorMessage {
  field?: { name?: string; oneofIndex?: number; proto3Optional?: boolean }[];
  oneofDecl?: { name?: string }[];
  nestedType?: DescriptorMessage[];
}

/** protobufjs drops `proto3_optional`; restore it for the synthetic `_<field>` oneofs of `optional` fields. */
const markProto3Optional = (messages: DescriptorMessage[] | undefined): void => {
  for (const m of messages ?? []) {
    // Message instances carry prototype defaults (oneofIndex 0): only own properties are set.
    const inOneof = (m.field ?? []).filter((f) => Object.hasOwn(f, "oneofIndex"));
    for (const f of inOneof) {
      const oneof = m.oneofDecl?.[f.oneofIndex ?? -1];
      const members = inOneof.filter((g) => g.oneofIndex === f.oneofIndex).length;
      if (oneof?.name === `_${f.name}` && members === 1) f.proto3Optional = true;
    }
    markProto3Optional(m.nestedType);
  }
};

export const loadProto = (file: ProtoFile): LoadedProto => {
  const parsed = protobuf.parse(file.text, { keepCase: true });
  // Each embedded file is self-contained; an import would need its text embedded and a descriptor
  // with `dependency` set for reflection. Fail loudly at startup rather than serve a broken service.
  if (parsed.imports?.length || parsed.weakImports?.length) {
    throw new Error(`${file.name}: imports are not supported by the embedded proto loader`);
  }
  const root = parsed.root;
  root.resolveAll();
  // Built on the first reflection request: encoding descriptors costs tens of ms at startup.
  let descriptorBytes: Uint8Array | null = null;
  const encodeDescriptor = (): Uint8Array => {
    const set = (root as unknown as { toDescriptor(syntax: string): { file: Record<string, unknown>[] } }).toDescriptor("proto3");
    const fileDescriptor = set.file[0];
    if (!fileDescriptor || set.file.length !== 1) throw new Error(`${file.name}: expected exactly one package`);
    fileDescriptor.name = file.name;
    markProto3Optional(fileDescriptor.messageType as DescriptorMessage[] | undefined);
    return descriptor.FileDescriptorProto.encode(fileDescriptor).finish();
  };
  const symbols: string[] = [];
  const services: string[] = [];
  collectSymbols(root, symbols, services);
  return {
    root,
    get descriptorBytes() {
      return (descriptorBytes ??= encodeDescriptor());
    },
    symbols,
    services,
    service: (fullName) => {
      const found = root.lookup(fullName);
      if (!(found instanceof protobuf.Service)) throw new Error(`service ${fullName} not found in ${file.name}`);
      return serviceDefinition(found);
    },
  };
};
