// Pure IP / CIDR helpers behind the trusted-proxy client IP.
import { describe, expect, test } from "bun:test";
import { createIpMatcher, normalizeIp, parseCidr, parseIp, resolveClientIp } from "../../src/transports/http/ip-cidr.ts";

describe("parseIp / normalizeIp", () => {
  test.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["[2001:db8::1]", "2001:db8::1"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["FE80::1%eth0", "fe80::1%eth0"],
  ])("%s → %s", (raw, expected) => expect(normalizeIp(raw)).toBe(expected));

  test.each(["", "1.2.3", "256.1.1.1", "1.2.3.4.5", "01.2.3.a", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "example.com"])(
    "rejects %p",
    (raw) => expect(parseIp(raw)).toBeNull(),
  );

  test("expands :: in the middle", () => {
    expect(Array.from(parseIp("2001:db8::8:1")?.bytes ?? [])).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 1]);
  });
});

describe("CIDR matching", () => {
  test.each([
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.77", true],
    ["192.168.1.0/25", "192.168.1.200", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.1", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.1", "127.0.0.2", false],
    ["fd00::/8", "fd12:3456::1", true],
    ["fd00::/8", "fe80::1", false],
    ["2001:db8::/33", "2001:db8:7fff::1", true],
    ["2001:db8::/33", "2001:db8:8000::1", false],
    ["::1/128", "::1", true],
    ["10.0.0.0/8", "::ffff:10.0.0.5", true],
    ["::ffff:10.0.0.0/104", "10.9.9.9", true],
    ["10.0.0.0/8", "fd00::1", false],
  ] as const)("%s contains %s: %p", (cidr, ip, expected) => expect(createIpMatcher([cidr])(ip)).toBe(expected));

  test.each(["10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0.0/8/8", "nope"])("rejects CIDR %p", (c) => {
    expect(parseCidr(c)).toBeNull();
    expect(() => createIpMatcher([c])).toThrow("http.trusted_proxies");
  });
});

describe("resolveClientIp", () => {
  const isTrusted = createIpMatcher(["10.0.0.0/8", "::1"]);
  const resolve = (peer: string, forwardedFor: string | null = null, realIp: string | null = null) =>
    resolveClientIp({ peer, forwardedFor, realIp, isTrusted });

  test("an untrusted peer is the client, whatever it claims", () => {
    expect(resolve("203.0.113.5", "1.1.1.1", "2.2.2.2")).toBe("203.0.113.5");
  });
  test("right-most untrusted X-Forwarded-For hop", () => {
    expect(resolve("10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2")).toBe("203.0.113.9");
    expect(resolve("::1", "203.0.113.9")).toBe("203.0.113.9");
  });
  test("every hop trusted: the left-most", () => {
    expect(resolve("10.0.0.1", "10.0.0.3, 10.0.0.2")).toBe("10.0.0.3");
  });
  test("a malformed hop stops the walk at the last trusted address", () => {
    expect(resolve("10.0.0.1", "203.0.113.9, garbage, 10.0.0.2")).toBe("10.0.0.2");
  });
  test("X-Real-IP when there is no X-Forwarded-For", () => {
    expect(resolve("10.0.0.1", null, "203.0.113.7")).toBe("203.0.113.7");
    expect(resolve("10.0.0.1", null, "bogus")).toBe("10.0.0.1");
  });
  test("IPv4-mapped peers are unwrapped", () => {
    expect(resolve("::ffff:203.0.113.5")).toBe("203.0.113.5");
  });
});
