// The gRPC transport: identra.v1.IdentraService (from the embedded generated proto), grpc.health.v1
// and server reflection on one grpc-js server. Handlers only map proto ⇄ IdentraApi.
import { Metadata, Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { AppError, isAppError } from "../../domain/errors.ts";
import { createRequestObserver, loggableEmail, roundMs } from "../observe.ts";
import { causeOf, toPublicError } from "../error-table.ts";
import { createIpMatcher } from "../http/ip-cidr.ts";
import { createCallContext } from "./call-context.ts";
import { guardDeserializers, isUndecodable } from "./decode-guard.ts";
import { toGrpcError } from "./error-status.ts";
import { createHealthService } from "./health-service.ts";
import { IDENTRA_RPCS, type ProtoMessage } from "./identra-mapping.ts";
import { loadProto, PROTO_FILES } from "./proto-registry.ts";
import { createReflectionHandlers } from "./reflection-service.ts";
import { statusGuard } from "./status-guard.ts";
import type { TransportDeps, TransportServer } from "../transport-deps.ts";

export const IDENTRA_SERVICE = "identra.v1.IdentraService";

export type GrpcServerDeps = TransportDeps;
export type GrpcServer = TransportServer;

/** `16` → `UNAUTHENTICATED` (grpc-js `status` is a numeric enum with its reverse mapping). */
const grpcCodeName = (code: number): string => (status as unknown as Record<number, string>)[code] ?? String(code);

const bindAddress = (host: string, port: number): string => `${host.includes(":") ? `[${host}]` : host}:${port}`;

export const createGrpcServer = (deps: GrpcServerDeps): GrpcServer => {
  const { api, health, config, logger, newRequestId, metrics } = deps;
  const observe = createRequestObserver(metrics);
  const now = deps.monotonicNow ?? (() => performance.now());
  const contextOf = createCallContext({ isTrusted: createIpMatcher(config.http.trustedProxies), newRequestId });
  const files = Object.values(PROTO_FILES).map((file) => ({ file, proto: loadProto(file) }));
  const [identra, healthProto, reflV1alpha, reflV1] = files.map((f) => f.proto);
  if (!identra || !healthProto || !reflV1alpha || !reflV1) throw new Error("embedded protos missing");

  const unary = (name: string) => (call: ServerUnaryCall<ProtoMessage, ProtoMessage>, callback: sendUnaryData<ProtoMessage>) => {
    const started = now();
    const ctx = contextOf(call);
    const method = `/${IDENTRA_SERVICE}/${name}`;
    const md = new Metadata();
    md.set("x-request-id", ctx.requestId);
    call.sendMetadata(md);
    const rpc = IDENTRA_RPCS[name];
    const run = async (): Promise<ProtoMessage> => {
      if (isUndecodable(call.request)) throw new AppError("INVALID_ARGUMENT", "request message could not be decoded");
      if (!rpc) throw new AppError("UNIMPLEMENTED", `method ${name} not implemented`);
      return rpc(api, call.request, ctx);
    };
    const log = (code: number) => {
      const durationMs = now() - started;
      observe.grpc(method, grpcCodeName(code), durationMs);
      const email = isUndecodable(call.request) ? undefined : loggableEmail(call.request?.email);
      logger.info("grpc call", {
        method,
        status: code,
        durationMs: roundMs(durationMs),
        requestId: ctx.requestId,
        email, // absent unless the request had one; dropped unless log.level=debug
      });
    };
    run().then(
      (res) => {
        callback(null, res);
        log(status.OK);
      },
      (err: unknown) => {
        if (!isAppError(err)) {
          logger.error("unhandled error", { requestId: ctx.requestId, error: err instanceof Error ? err.stack ?? err.message : String(err) });
        } else if (err.reason === "DEPENDENCY_UNAVAILABLE") {
          logger.warn("dependency unavailable", { requestId: ctx.requestId, error: err.message, cause: causeOf(err) });
        }
        callback(toGrpcError(err));
        log(toPublicError(err).mapping.grpc);
      },
    );
  };

  const identraDef = guardDeserializers(identra.service(IDENTRA_SERVICE));
  const handlers = Object.fromEntries(Object.keys(identraDef).map((name) => [name, unary(name)]));
  const healthService = createHealthService({ health, services: [IDENTRA_SERVICE] });
  const reflection = createReflectionHandlers(files);

  let server: Server | null = null;
  let boundPort = 0;
  return {
    async start() {
      if (server) return { port: boundPort };
      const s = new Server({
        "grpc.max_receive_message_length": config.http.maxBodyBytes,
        interceptors: [statusGuard],
      });
      s.addService(identraDef, handlers);
      s.addService(guardDeserializers(healthProto.service("grpc.health.v1.Health")), healthService.handlers);
      s.addService(reflV1alpha.service("grpc.reflection.v1alpha.ServerReflection"), reflection);
      s.addService(reflV1.service("grpc.reflection.v1.ServerReflection"), reflection);
      boundPort = await new Promise<number>((resolve, reject) =>
        s.bindAsync(bindAddress(config.host, config.grpcPort), ServerCredentials.createInsecure(), (err, port) =>
          err ? reject(err) : resolve(port),
        ),
      );
      server = s;
      return { port: boundPort };
    },
    async stop(graceMs) {
      const s = server;
      if (!s) return;
      server = null;
      healthService.closeWatchers();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs))));
      await Promise.race([drained, grace]);
      clearTimeout(timer);
      s.forceShutdown();
    },
  };
};
