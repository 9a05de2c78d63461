// The REST fast path for request paths must agree with WHATWG URL wherever it answers, and leave
// everything that needs normalisation (or an odd Host) to the general path.
import { expect, test } from "bun:test";
import { plainPath } from "../../src/transports/http/server.ts";

test("plainPath agrees with new URL(...).pathname wherever it answers", () => {
  const answered = [
    "http://127.0.0.1:8080/api/.well-known/jwks.json",
    "http://127.0.0.1:8080/api/oauth/url?provider=github&redirect_url=x",
    "http://localhost:1/a/b#c",
    "http://[::1]:80/api/docs/swagger-ui.css",
    "http://127.0.0.1:8080/a.b/c.d/...x",
    "http://127.0.0.1:8080/",
  ];
  for (const raw of answered) expect(plainPath(raw)).toBe(new URL(raw).pathname);
});

test("anything needing normalisation, or an odd or short Host, takes the general path", () => {
  for (const raw of [
    "http://127.0.0.1:8080/api/../x",
    "http://127.0.0.1:8080/a/./b",
    "http://127.0.0.1:8080/a/..",
    "http://127.0.0.1:8080/a%2Fb",
    "http://127.0.0.1:8080/a b",
    "http://127.0.0.1:8080/a\\b",
    "http://x/",
    "http://a@b.example/x",
    "https://a.example/x",
    "/relative",
  ]) {
    expect(plainPath(raw)).toBeNull();
  }
});
