// log.* keys: the JWKS access-log switch defaults to off (served natively) and takes only booleans.
import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";

const load = (env: Record<string, string>) => loadConfig({ argv: [], env, readFile: () => "" });

test("log.jwks_requests defaults to false and reads true from the environment", () => {
  expect(load({}).log).toEqual({ level: "info", format: "json", jwksRequests: false });
  expect(load({ IDENTRA_LOG_JWKS_REQUESTS: "true" }).log.jwksRequests).toBe(true);
});

test("a value that is not a boolean stops startup naming the key", () => {
  expect(() => load({ IDENTRA_LOG_JWKS_REQUESTS: "sometimes" })).toThrow("log.jwks_requests");
});
