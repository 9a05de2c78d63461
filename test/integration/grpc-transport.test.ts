// gRPC transport over a real socket with a fake IdentraApi: every RPC by name, proto field mapping,
// bearer from metadata, error status + reason, undecodable bytes, health, reflection.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import type { ServiceError } from "@grpc/grpc-js";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { AppError } from "../../src/domain/errors.ts";
import { decodeRichStatus } from "../../src/transports/grpc/error-status.ts";
import { createGrpcServer } from "../../src/transports/grpc/server.ts";
import { createGrpcTestClient } from "../support/grpc-client.ts";
import { createFakeServices, sequentialRequestIds, silentLogger, testConfig } from "../support/http-client.ts";

const fake = createFakeServices();
const logger = silentLogger();
const server = createGrpcServer({ api: fake.api, health: fake.health, config: testConfig({ http: { maxBodyBytes: 4096 } }), logger, newRequestId: sequentialRequestIds() });
const { port } = await server.start();
const client = createGrpcTestClient(port);

afterAll(async () => {
  client.close();
  await server.stop(100);
});
beforeEach(() => fake.reset());

const TOKEN = {
  access_token: { token: "access.jwt.value", expires_at: "1750000900" },
  refresh_token: { token: "refresh.jwt.value", expires_at: "1750604800" },
  token_type: "Bearer",
};
const lastCall = () => fake.calls.at(-1);
const failure = async (p: Promise<unknown>): Promise<ServiceError> => {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error("expected the call to fail");
};

describe("every RPC by name", () => {
  test("GetJWKS sets optional key fields only when present", async () => {
    const { response } = await client.call("GetJWKS");
    const key = (response.keys as Record<string, unknown>[])[0];
    expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: "abcdefghijk", n: "nnn", e: "AQAB" });
    expect(key?.crv).toBeUndefined();
  });

  test("GetOAuthAuthorizationURL with and without the optional redirect_url", async () => {
    const { response } = await client.call("GetOAuthAuthorizationURL", { provider: "github", redirect_url: "https://app/cb" });
    expect(response).toEqual({ url: "https://github.example/authorize?state=s1", state: "s1" });
    expect(lastCall()?.req).toEqual({ provider: "github", redirectUrl: "https://app/cb" });
    await client.call("GetOAuthAuthorizationURL", { provider: "github" });
    expect(lastCall()?.req).toEqual({ provider: "github", redirectUrl: undefined });
  });

  test("LoginByOAuth and BindUserByOAuth", async () => {
    expect((await client.call("LoginByOAuth", { code: "c", state: "s" })).response).toEqual({
      token: TOKEN,
      username: "octo",
      avatar_url: "",
      email: "o@example.com",
    });
    const bind = await client.call("BindUserByOAuth", { access_token: "body", code: "c", state: "s" }, { authorization: "Bearer hdr" });
    expect(bind.response).toEqual({ token: TOKEN, username: "octo", avatar_url: "https://a/x.png" });
    expect(lastCall()?.req).toEqual({ accessToken: "body", code: "c", state: "s" });
    expect(lastCall()?.ctx?.bearerToken).toBe("hdr");
  });

  test("SendLoginEmailCode and RevokeRefreshToken answer empty messages", async () => {
    expect((await client.call("SendLoginEmailCode", { email: "a@b.c", use_html: true })).response).toEqual({});
    expect(lastCall()?.req).toEqual({ email: "a@b.c", useHtml: true });
    expect((await client.call("RevokeRefreshToken", { refresh_token: "rt" })).response).toEqual({});
    expect(lastCall()?.req).toEqual({ refreshToken: "rt" });
  });

  test.each([
    ["LoginByEmailCode", { email: "a@b.c", code: "123456" }, { email: "a@b.c", code: "123456" }],
    ["RegisterByPassword", { email: "a@b.c", password: "pw" }, { email: "a@b.c", password: "pw" }],
    ["LoginByPassword", { email: "a@b.c", password: "pw" }, { email: "a@b.c", password: "pw" }],
    ["RefreshToken", { refresh_token: "rt" }, { refreshToken: "rt" }],
  ])("%s returns the token pair (int64 as string)", async (rpc, req, expected) => {
    expect((await client.call(rpc, req)).response).toEqual({ token: TOKEN });
    expect(lastCall()?.req).toEqual(expected);
  });

  test("ListOAuthProviders and GetCurrentUserLoginInfo", async () => {
    const providers = (await client.call("ListOAuthProviders")).response.providers as Record<string, unknown>[];
    expect(providers[0]).toMatchObject({ name: "github", enabled: false, reason: "missing_client_id" });
    expect(providers[1]?.reason).toBeUndefined();
    const { response } = await client.call("GetCurrentUserLoginInfo", {}, { authorization: "Bearer tok" });
    expect(response).toMatchObject({ user_id: "6f1c9a4e-0000-4000-8000-000000000001", email: "u@example.com", password_enabled: false, oauth_connections: [] });
    expect(response.github_id).toBeUndefined();
    expect(lastCall()?.ctx).toMatchObject({ bearerToken: "tok", clientIp: "127.0.0.1" });
  });

  test("x-request-id from metadata is used and returned", async () => {
    const { metadata } = await client.call("LoginByPassword", {}, { "x-request-id": "grpc-trace-1" });
    expect(lastCall()?.ctx?.requestId).toBe("grpc-trace-1");
    expect(metadata.get("x-request-id")).toEqual(["grpc-trace-1"]);
  });
});

describe("errors", () => {
  test("code, message and the stable reason (metadata and rich status)", async () => {
    fake.failWith("*", new AppError("INVALID_REFRESH_TOKEN", "invalid refresh token"));
    const err = await failure(client.call("RefreshToken", { refresh_token: "x" }));
    expect(err.code).toBe(16);
    expect(err.details).toBe("invalid refresh token");
    expect(err.metadata.get("x-error-reason")).toEqual(["INVALID_REFRESH_TOKEN"]);
    const rich = decodeRichStatus(err.metadata.get("grpc-status-details-bin")[0] as Buffer);
    expect(rich).toEqual({ code: 16, message: "invalid refresh token", reasons: ["INVALID_REFRESH_TOKEN"] });
  });

  test("RATE_LIMITED sets retry-after", async () => {
    fake.failWith("*", new AppError("RATE_LIMITED", "too many", { retryAfterSeconds: 17 }));
    const err = await failure(client.call("SendLoginEmailCode", { email: "a@b.c" }));
    expect(err.code).toBe(8);
    expect(err.metadata.get("retry-after")).toEqual(["17"]);
  });

  test("unknown errors are INTERNAL with a generic message", async () => {
    fake.failWith("*", new Error("secret detail"));
    const err = await failure(client.call("LoginByPassword", {}));
    expect(err.code).toBe(13);
    expect(err.details).toBe("internal error");
    expect(logger.lines.some((l) => l.level === "error")).toBe(true);
  });

  test("undecodable request bytes are INVALID_ARGUMENT, not INTERNAL", async () => {
    const err = await failure(client.rawCall("/identra.v1.IdentraService/LoginByPassword", Buffer.from([0xff, 0xff, 0xff])));
    expect(err.code).toBe(3);
    expect(err.metadata.get("x-error-reason")).toEqual(["INVALID_ARGUMENT"]);
    expect(fake.calls.length).toBe(0);
  });

  test("a message over the size limit is refused", async () => {
    const err = await failure(client.call("LoginByPassword", { email: "a@b.c", password: "x".repeat(10_000) }));
    expect(err.code).toBe(8); // grpc-js: RESOURCE_EXHAUSTED for max_receive_message_length
    expect(fake.calls.length).toBe(0);
  });
});

describe("health and reflection", () => {
  test("Check follows health.ready()", async () => {
    expect((await client.healthCheck()).response).toEqual({ status: "SERVING" });
    expect((await client.healthCheck("identra.v1.IdentraService")).response).toEqual({ status: "SERVING" });
    fake.health.setReady(false);
    expect((await client.healthCheck()).response).toEqual({ status: "NOT_SERVING" });
    expect((await failure(client.healthCheck("nope.Service"))).code).toBe(5);
  });

  test.each(["v1alpha", "v1"] as const)("reflection %s lists services and returns descriptors", async (version) => {
    const list = await client.reflect(version, { list_services: "" });
    const names = ((list.list_services_response as { service: { name: string }[] }).service).map((s) => s.name);
    expect(names).toContain("identra.v1.IdentraService");
    expect(names).toContain("grpc.health.v1.Health");

    const res = await client.reflect(version, { file_containing_symbol: "identra.v1.IdentraService" });
    const bytes = (res.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto[0];
    const file = descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes!)) as {
      package: string;
      service: { name: string; method: { name: string }[] }[];
    };
    expect(file.package).toBe("identra.v1");
    expect(file.service[0]?.method.map((m) => m.name)).toContain("GetJWKS");

    const missing = await client.reflect(version, { file_containing_symbol: "no.such.Symbol" });
    expect((missing.error_response as { error_code: number }).error_code).toBe(5);
  });
});
