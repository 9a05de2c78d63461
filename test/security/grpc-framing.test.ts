// gRPC below the message: raw HTTP/2 requests with broken framing and headers, answered by grpc-js
// before any handler runs. Regressions (found by fuzzing the framing): a gzip-flagged message that
// does not decompress and an unparsable grpc-timeout were INTERNAL (now INVALID_ARGUMENT), the timeout
// and encoding answers echoed the caller's header value, and a unary call with zero or two messages
// was UNIMPLEMENTED "... server streaming method" (now INVALID_ARGUMENT). See transports/grpc/status-guard.ts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { startTestServer, type TestServer } from "../support/identra-server.ts";

const SENTINEL = "FR4M1NGS3NT1NEL";
const PATH = "/identra.v1.IdentraService/LoginByPassword";
let server: TestServer;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  server = await startTestServer();
  session = http2.connect(`http://${server.grpcAddress}`);
});
afterAll(async () => {
  session.close();
  await server.stop();
});

interface Answer {
  httpStatus: number;
  grpcStatus: number;
  message: string;
}

const call = (body: Buffer, headers: Record<string, string> = {}, path = PATH) =>
  new Promise<Answer>((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (head = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", () => {});
    req.on("end", () =>
      resolve({
        httpStatus: Number(head[":status"]),
        grpcStatus: Number(trailers["grpc-status"] ?? head["grpc-status"]),
        message: decodeURIComponent(String(trailers["grpc-message"] ?? head["grpc-message"] ?? "")),
      }),
    );
    req.on("error", reject);
    req.end(body);
  });

const frame = (flag: number, payload: Buffer, length = payload.length) => {
  const h = Buffer.alloc(5);
  h[0] = flag;
  h.writeUInt32BE(length, 1);
  return Buffer.concat([h, payload]);
};
const LOGIN = Buffer.from([0x0a, 0x01, 0x61]); // {email: "a"}

test.each([
  ["gzip-flagged bytes that are not gzip", frame(1, Buffer.from(SENTINEL)), { "grpc-encoding": "gzip" }, 3, "request message could not be decompressed"],
  ["deflate-flagged garbage", frame(1, Buffer.from(SENTINEL)), { "grpc-encoding": "deflate" }, 3, "request message could not be decompressed"],
  ["compressed flag without an encoding", frame(1, Buffer.from(SENTINEL)), {}, 3, "request message could not be decoded"],
  ["an unparsable grpc-timeout", frame(0, Buffer.alloc(0)), { "grpc-timeout": SENTINEL }, 3, "invalid grpc-timeout header"],
  ["an unsupported encoding", frame(1, Buffer.from(SENTINEL)), { "grpc-encoding": SENTINEL.toLowerCase() }, 12, "unsupported message encoding"],
  ["no message at all", Buffer.alloc(0), {}, 3, "a unary call takes exactly one request message"],
  ["a partial frame header", Buffer.from([0, 0, 0]), {}, 3, "a unary call takes exactly one request message"],
  ["a frame shorter than its declared length", frame(0, LOGIN, 100), {}, 3, "a unary call takes exactly one request message"],
  ["two messages on a unary call", Buffer.concat([frame(0, LOGIN), frame(0, LOGIN)]), {}, 3, "a unary call takes exactly one request message"],
] as const)("%s → clean status %d, no echo", async (_name, body, headers, code, message) => {
  const a = await call(body, headers);
  expect(a.httpStatus).toBe(200);
  // grpc-js raises the bad timeout on the next tick; a handler that is faster answers with its own
  // INVALID_ARGUMENT (an empty login request). Either way: code 3, and never the header's value.
  const alsoFine = message === "invalid grpc-timeout header" ? ["email and password are required"] : [];
  expect(a.grpcStatus).toBe(code);
  expect([message, ...alsoFine]).toContain(a.message);
  expect(a.message).not.toContain(SENTINEL);
  expect(a.message.toLowerCase()).not.toContain(SENTINEL.toLowerCase());
});

test("size limits: a declared 4 GB frame and a gzip bomb → RESOURCE_EXHAUSTED", async () => {
  expect((await call(frame(0, Buffer.alloc(0), 0xffffffff))).grpcStatus).toBe(8);
  expect((await call(frame(1, gzipSync(Buffer.alloc(20 * 1024 * 1024))), { "grpc-encoding": "gzip" })).grpcStatus).toBe(8);
});

test("a well-formed call, and the handlers' own statuses, pass through unchanged", async () => {
  expect(await call(frame(0, LOGIN))).toEqual({ httpStatus: 200, grpcStatus: 3, message: "email and password are required" });
  expect(await call(frame(1, gzipSync(LOGIN)), { "grpc-encoding": "gzip" })).toEqual({ httpStatus: 200, grpcStatus: 3, message: "email and password are required" });
  expect(await call(frame(0, LOGIN), { "grpc-timeout": "5S" })).toEqual({ httpStatus: 200, grpcStatus: 3, message: "email and password are required" });
});

test("wrong content-type is refused at the HTTP level (415), never a 5xx", async () => {
  const a = await call(frame(0, LOGIN), { "content-type": "application/json" });
  expect(a.httpStatus).toBe(415);
});
