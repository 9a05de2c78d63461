// Regressions (found by the fuzzer's random Host headers): a short Host ("x", "idp") made every
// route — /healthz included — answer 404 (Elysia looks for the path's "/" from index 11 of the URL),
// and a Host that Bun cannot make an absolute URL from ("", "a b", "x/y", "a@b", "[::1") gave a 500
// (`new URL(request.url)` threw). The transport now re-addresses such requests to a canonical origin.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { startTestServer, type TestServer } from "../support/identra-server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const raw = (port: number, request: string) =>
  new Promise<string>((resolve) => {
    const sock = connect(port, "127.0.0.1", () => sock.write(request));
    let out = "";
    sock.on("data", (b) => {
      out += b.toString();
      if (/\r\n\r\n/.test(out) && /content-length: (\d+)/i.test(out)) {
        const len = Number(/content-length: (\d+)/i.exec(out)![1]);
        if (Buffer.byteLength(out.slice(out.indexOf("\r\n\r\n") + 4)) >= len) sock.end();
      }
    });
    sock.on("close", () => resolve(out));
    sock.on("error", () => resolve(out));
    setTimeout(() => sock.end(), 2000);
  });

test.each(["x", "ab", "idp", "a:1", "localhost", "[::1]", "example.com:8080", "", " ", "a b", "x/y", "%", "ü", "[::1", "a:99999", "@", "a@b", "a#b", "a?b", "a\\b", ".."])("Host %p: routes still match", async (host) => {
  const port = Number(new URL(server.httpUrl).port);
  const health = await raw(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  expect(health).toStartWith("HTTP/1.1 200");
  const body = JSON.stringify({ email: `host-${host.replace(/\W/g, "") || "empty"}@example.com`, password: "host-header-password" });
  const login = await raw(
    port,
    `POST /api/password/login?x=1 HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  expect(login).toStartWith("HTTP/1.1 200");
  expect(login).toContain('"tokenType":"Bearer"');
  const jwks = await raw(port, `GET /api/.well-known/jwks.json HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  expect(jwks).toStartWith("HTTP/1.1 200");
});

test("no Host header at all, absolute-form targets, and TRACE with a broken Host: never a 5xx", async () => {
  const port = Number(new URL(server.httpUrl).port);
  expect(await raw(port, "GET /healthz HTTP/1.0\r\n\r\n")).toMatch(/^HTTP\/1\.[01] 200/);
  expect(await raw(port, "GET http://evil.example/healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toStartWith("HTTP/1.1 200");
  for (const method of ["TRACE", "CONNECT"]) {
    const out = await raw(port, `${method} /api/password/login HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 4\d\d/);
  }
  // Methods Bun's parser does not know: the connection is closed without an answer (never a 5xx).
  for (const method of ["TRACK", "BREW"]) {
    const out = await raw(port, `${method} /api/password/login HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`);
    expect(out).not.toMatch(/^HTTP\/1\.1 5\d\d/);
  }
  expect(await raw(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toStartWith("HTTP/1.1 200");
});
