// The server builds its grpc-js service definitions from protobufjs types instead of proto-loader's
// fromJSON (which costs ≈ 15 ms of startup encoding descriptors the server never reads). They must
// be the same definitions: same paths and streaming flags, same bytes out, same objects in.
import { expect, test } from "bun:test";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { loadProto, PROTO_FILES } from "../../src/transports/grpc/proto-registry.ts";

const PROTO_LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const referenceDefinitions = (text: string) => {
  const root = protobuf.parse(text, { keepCase: true }).root;
  root.resolveAll();
  return fromJSON(root.toJSON(), PROTO_LOADER_OPTIONS);
};

// Requests and responses with every kind of field the identra messages use.
const SAMPLES: Record<string, object> = {
  "identra.v1.LoginByPasswordRequest": { email: "a@b.example", password: "pw" },
  "identra.v1.LoginByPasswordResponse": { token: { access_token: { token: "t", expires_at: "1750000900" }, refresh_token: { token: "r", expires_at: "9007199254740993" }, token_type: "Bearer" } },
  "identra.v1.GetJWKSResponse": { keys: [{ kty: "RSA", alg: "RS256", use: "sig", kid: "k", n: "n", e: "AQAB" }] },
  "identra.v1.GetCurrentUserLoginInfoResponse": { user_id: "u", email: "e", password_enabled: true, oauth_connections: [{ provider: "github", provider_user_id: "1" }] },
};

test("every served service has proto-loader's methods, paths and streaming flags", () => {
  for (const file of Object.values(PROTO_FILES)) {
    const ours = loadProto(file);
    const reference = referenceDefinitions(file.text);
    for (const serviceName of ours.services) {
      const mine = ours.service(serviceName);
      const theirs = reference[serviceName] as ServiceDefinition;
      expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
      for (const [method, def] of Object.entries(mine)) {
        const ref = theirs[method]!;
        expect({ path: def.path, requestStream: def.requestStream, responseStream: def.responseStream }).toEqual({
          path: ref.path,
          requestStream: ref.requestStream,
          responseStream: ref.responseStream,
        });
      }
    }
  }
});

test("messages serialise to the same bytes and deserialise to the same objects", () => {
  const ours = loadProto(PROTO_FILES.identra);
  const reference = referenceDefinitions(PROTO_FILES.identra.text);
  const mine = ours.service("identra.v1.IdentraService");
  const theirs = reference["identra.v1.IdentraService"] as ServiceDefinition;
  let checked = 0;
  for (const [method, def] of Object.entries(mine)) {
    const ref = theirs[method]!;
    const requestType = ours.root.lookupService("identra.v1.IdentraService").methods[method]!.resolvedRequestType!.fullName.slice(1);
    const responseType = ours.root.lookupService("identra.v1.IdentraService").methods[method]!.resolvedResponseType!.fullName.slice(1);
    for (const [typeName, serialize, deserialize, refSerialize, refDeserialize] of [
      [requestType, def.requestSerialize, def.requestDeserialize, ref.requestSerialize, ref.requestDeserialize],
      [responseType, def.responseSerialize, def.responseDeserialize, ref.responseSerialize, ref.responseDeserialize],
    ] as const) {
      const value = SAMPLES[typeName] ?? {};
      const bytes = serialize(value);
      expect(Buffer.from(bytes)).toEqual(Buffer.from(refSerialize(value)));
      expect(deserialize(bytes)).toEqual(refDeserialize(bytes));
      expect(deserialize(Buffer.alloc(0))).toEqual(refDeserialize(Buffer.alloc(0))); // all defaults
      checked += 1;
    }
  }
  expect(checked).toBe(2 * Object.keys(mine).length);
  expect(() => mine.LoginByPassword!.requestSerialize([] as never)).toThrow("array");
});
