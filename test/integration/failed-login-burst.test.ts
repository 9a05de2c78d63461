// The per-IP failed-login limit holds under a concurrent burst spread over many addresses, and
// successful logins from one IP (an office behind NAT) never use it up.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../support/identra-server.ts";
import { restDriver } from "../support/rpc-driver.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test("30 concurrent wrong passwords for 30 different accounts from one IP: at most 5 are checked", async () => {
  const d = restDriver(server.httpUrl);
  const emails = Array.from({ length: 30 }, (_, i) => `burst-${i}@example.com`);
  for (const email of emails) expect((await d.call("RegisterByPassword", { email, password: "the-right-password" })).ok).toBe(true);
  const results = await Promise.all(emails.map((email) => d.call("LoginByPassword", { email, password: "a-wrong-password" })));
  const checked = results.filter((r) => !r.ok && r.reason === "INVALID_CREDENTIALS").length;
  const limited = results.filter((r) => !r.ok && r.reason === "RATE_LIMITED").length;
  expect(checked).toBeLessThanOrEqual(5);
  expect(checked + limited).toBe(30);
});

test("successful logins from one IP do not count against it", async () => {
  const other = await startTestServer();
  try {
    const d = restDriver(other.httpUrl);
    await d.call("RegisterByPassword", { email: "office@example.com", password: "office-password" });
    for (let i = 0; i < 12; i++) {
      expect(await d.call("LoginByPassword", { email: "office@example.com", password: "office-password" })).toMatchObject({ ok: true });
    }
    // Failures still count: five wrong ones for another account, then that IP is limited.
    await d.call("RegisterByPassword", { email: "someone@example.com", password: "someone-password" });
    for (let i = 0; i < 5; i++) await d.call("LoginByPassword", { email: "someone@example.com", password: "wrong-password" });
    expect(await d.call("LoginByPassword", { email: "office@example.com", password: "office-password" })).toMatchObject({ ok: false, reason: "RATE_LIMITED" });
  } finally {
    await other.stop();
  }
});
