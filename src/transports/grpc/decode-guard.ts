// grpc-js decodes a request before any handler runs and answers INTERNAL when that throws. The
// contract wants INVALID_ARGUMENT: each deserializer is wrapped to hand the handler a marker instead.
import type { ServiceDefinition } from "@grpc/grpc-js";

export const UNDECODABLE: Readonly<Record<string, never>> = Object.freeze({});

export const isUndecodable = (request: unknown): boolean => request === UNDECODABLE;

export const guardDeserializers = (service: ServiceDefinition): ServiceDefinition => {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch {
          return UNDECODABLE;
        }
      },
    };
  }
  return out as ServiceDefinition;
};
