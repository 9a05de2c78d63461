// Calls any identra.v1 RPC over REST or over gRPC and gives back one shape, so a scenario can be
// written once and run on both transports. gRPC answers are converted to the canonical JSON names.
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import protoText from "../../generated/identra.proto" with { type: "text" };

export type Transport = "rest" | "grpc";

export type RpcResult =
  | { ok: true; body: any; headers?: Headers }
  | { ok: false; grpcCode: number; reason: string; message: string; httpStatus?: number; headers?: Headers };

const ROUTES: Record<string, { method: "GET" | "POST"; path: string }> = {
  GetJWKS: { method: "GET", path: "/api/.well-known/jwks.json" },
  GetOAuthAuthorizationURL: { method: "GET", path: "/api/oauth/url" },
  LoginByOAuth: { method: "POST", path: "/api/oauth/login" },
  BindUserByOAuth: { method: "POST", path: "/api/oauth/bind" },
  SendLoginEmailCode: { method: "POST", path: "/api/email/code" },
  LoginByEmailCode: { method: "POST", path: "/api/email/login" },
  RegisterByPassword: { method: "POST", path: "/api/password/register" },
  LoginByPassword: { method: "POST", path: "/api/password/login" },
  RefreshToken: { method: "POST", path: "/api/token/refresh" },
  RevokeRefreshToken: { method: "POST", path: "/api/token/revoke" },
  ListOAuthProviders: { method: "GET", path: "/api/oauth/providers" },
  GetCurrentUserLoginInfo: { method: "POST", path: "/api/me/login-info" },
};
export const RPC_NAMES = Object.keys(ROUTES);

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
export function toCamel(value: any): any {
  if (Array.isArray(value)) return value.map(toCamel);
  if (value && typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), toCamel(v)]));
  }
  return value;
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** Scenario bodies may use JSON names; gRPC messages use the proto field names. */
export const toSnakeKeys = (body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).map(([k, v]) => [snake(k), v]));

let packageDefinition: grpc.GrpcObject | null = null;
function servicePackage(): grpc.GrpcObject {
  if (!packageDefinition) {
    const root = protobuf.parse(protoText, { keepCase: true }).root;
    const def = fromJSON(root.toJSON(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    packageDefinition = grpc.loadPackageDefinition(def);
  }
  return packageDefinition;
}

export function createGrpcClient(address: string): grpc.Client & Record<string, any> {
  const pkg = servicePackage() as any;
  return new pkg.identra.v1.IdentraService(address, grpc.credentials.createInsecure());
}

export interface Driver {
  transport: Transport;
  call(rpc: string, body?: Record<string, unknown>, options?: { bearer?: string; headers?: Record<string, string> }): Promise<RpcResult>;
  close(): void;
}

export function restDriver(baseUrl: string): Driver {
  return {
    transport: "rest",
    async call(rpc, body = {}, options = {}) {
      const route = ROUTES[rpc]!;
      const headers: Record<string, string> = { ...options.headers };
      if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
      let url = baseUrl + route.path;
      let init: RequestInit = { method: route.method, headers };
      if (route.method === "GET") {
        const q = new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]));
        if ([...q].length) url += `?${q}`;
      } else {
        headers["content-type"] = "application/json";
        init = { ...init, body: JSON.stringify(body) };
      }
      const res = await fetch(url, init);
      const json: any = await res.json().catch(() => null);
      if (res.ok) return { ok: true, body: json, headers: res.headers };
      return { ok: false, grpcCode: json?.code, reason: json?.details?.[0]?.reason ?? "", message: json?.message, httpStatus: res.status, headers: res.headers };
    },
    close() {},
  };
}

export function grpcDriver(address: string): Driver {
  const client = createGrpcClient(address);
  return {
    transport: "grpc",
    call(rpc, body = {}, options = {}) {
      const md = new grpc.Metadata();
      if (options.bearer) md.set("authorization", `Bearer ${options.bearer}`);
      for (const [k, v] of Object.entries(options.headers ?? {})) md.set(k, v);
      return new Promise((resolve) => {
        client[rpc](toSnakeKeys(body), md, { deadline: Date.now() + 20_000 }, (err: grpc.ServiceError | null, res: any) => {
          if (err) {
            const reason = String(err.metadata?.get("x-error-reason")?.[0] ?? "");
            resolve({ ok: false, grpcCode: err.code, reason, message: err.details });
          } else resolve({ ok: true, body: toCamel(res) });
        });
      });
    },
    close: () => client.close(),
  };
}
