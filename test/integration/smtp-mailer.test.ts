import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { createSmtpMailer } from "../../src/adapters/smtp/mailer.ts";
import type { SmtpMailerOptions } from "../../src/adapters/smtp/mailer.ts";
import { AppError } from "../../src/domain/errors.ts";
import { renderLoginCodeMail } from "../../src/domain/login-code-mail.ts";
import type { Mailer } from "../../src/ports/mailer.ts";
import { extractCode, startSmtpSink } from "../support/smtp-sink.ts";
import type { SmtpSink } from "../support/smtp-sink.ts";

const baseOptions = (port: number): SmtpMailerOptions => ({
  host: "127.0.0.1",
  port,
  fromEmail: "no-reply@identra.test",
  fromName: 'Identra "Auth", Inc.',
  secure: false,
  startTls: false,
  connectTimeoutMs: 500,
  sendTimeoutMs: 500,
  pool: true,
});

const expectAppError = async (p: Promise<unknown>, reason: string, message?: string): Promise<AppError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appError = err as AppError;
  expect(appError.reason).toBe(reason as AppError["reason"]);
  if (message !== undefined) expect(appError.message).toBe(message);
  return appError;
};

/** A port nobody listens on: bind, read it, close. */
const closedPort = async (): Promise<number> => {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
};

let sink: SmtpSink;
const mailers: Mailer[] = [];
const mailerFor = (overrides: Partial<SmtpMailerOptions> = {}): Mailer => {
  const m = createSmtpMailer({ ...baseOptions(sink.port), ...overrides });
  mailers.push(m);
  return m;
};

beforeAll(async () => {
  sink = await startSmtpSink();
});

afterEach(async () => {
  await Promise.all(mailers.splice(0).map((m) => m.close()));
  sink.setMode("accept");
});

afterAll(async () => {
  await sink.stop();
});

describe("smtp mailer → smtp sink", () => {
  test("delivers the login-code mail with subject, text and html", async () => {
    const mail = renderLoginCodeMail({ code: "493017", ttlMinutes: 10 });
    await mailerFor().send({ to: "alice@example.com", ...mail });

    const got = await sink.waitFor("alice@example.com", 5000);
    expect(got.subject).toBe("Your Verification Code");
    expect(got.text).toContain("493017");
    expect(got.text).toContain("expires in 10 minutes");
    expect(got.html).toContain("493017");
    expect(got.html).toContain("expires in 10 minutes");
    expect(extractCode(got)).toBe("493017");
    expect(got.from).toBe("no-reply@identra.test");
    expect(got.headers.from).toBe('"Identra \\"Auth\\", Inc." <no-reply@identra.test>');
    expect(got.headers.to).toBe("alice@example.com");
  });

  test("a text-only message has no html part", async () => {
    await mailerFor().send({ to: "text-only@example.com", subject: "Your Verification Code", text: "code 111222" });
    const got = await sink.waitFor("text-only@example.com", 5000);
    expect(got.html).toBeNull();
    expect(extractCode(got)).toBe("111222");
  });

  test("non-ASCII content survives the transfer encoding", async () => {
    const text = `Grüße — ${"ä".repeat(100)} 654321`;
    await mailerFor().send({ to: "utf8@example.com", subject: "Verification — Grüße", text, html: `<p>${text}</p>` });
    const got = await sink.waitFor("utf8@example.com", 5000);
    expect(got.subject).toBe("Verification — Grüße");
    expect(got.text.trim()).toBe(text);
    expect(got.html).toContain(text);
  });

  test("pooled connection is reused for consecutive sends", async () => {
    const mailer = mailerFor();
    const before = sink.connectionCount;
    await mailer.send({ to: "pool1@example.com", subject: "s", text: "one" });
    await mailer.send({ to: "pool2@example.com", subject: "s", text: "two" });
    const first = await sink.waitFor("pool1@example.com", 5000);
    const second = await sink.waitFor("pool2@example.com", 5000);
    expect(second.sessionId).toBe(first.sessionId);
    expect(sink.connectionCount - before).toBe(1);
  });

  test("a refusing server → DEPENDENCY_UNAVAILABLE", async () => {
    sink.setMode("refuse");
    await expectAppError(
      mailerFor().send({ to: "refused@example.com", subject: "s", text: "t" }),
      "DEPENDENCY_UNAVAILABLE",
      "mail service is unavailable",
    );
    expect(sink.messages.some((m) => m.to === "refused@example.com")).toBe(false);
  });

  test("connection refused → DEPENDENCY_UNAVAILABLE", async () => {
    const port = await closedPort();
    const err = await expectAppError(
      mailerFor({ port }).send({ to: "nobody@example.com", subject: "s", text: "t" }),
      "DEPENDENCY_UNAVAILABLE",
    );
    expect(err.cause).toBeDefined();
  });

  test("a server that never greets → DEPENDENCY_UNAVAILABLE, bounded by the timeout", async () => {
    sink.setMode("hang");
    const started = performance.now();
    await expectAppError(
      mailerFor({ connectTimeoutMs: 300, sendTimeoutMs: 300 }).send({
        to: "hang@example.com",
        subject: "s",
        text: "t",
      }),
      "DEPENDENCY_UNAVAILABLE",
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("the outer timer settles a send even when nodemailer's timeouts would not", async () => {
    // A raw TCP server that greets, then answers EHLO with an endless trickle of continuation
    // lines: the socket is never idle (socketTimeout cannot fire) and the greeting timer is done,
    // so only the outer timer (connect + send) can end the wait.
    const sockets = new Set<Socket>();
    const timers = new Set<ReturnType<typeof setInterval>>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.write("220 trickle ESMTP\r\n");
      s.once("data", () => {
        const t = setInterval(() => s.writable && s.write("250-STILL-THINKING\r\n"), 50);
        timers.add(t);
        s.on("close", () => clearInterval(t));
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const addr = silent.address();
    if (addr === null || typeof addr === "string") throw new Error("no port");
    try {
      const mailer = mailerFor({ port: addr.port, connectTimeoutMs: 200, sendTimeoutMs: 400 });
      const started = performance.now();
      const err = await expectAppError(
        mailer.send({ to: "silent@example.com", subject: "s", text: "t" }),
        "DEPENDENCY_UNAVAILABLE",
      );
      expect(String((err.cause as Error).message)).toContain("did not finish");
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("after a failure the mailer recovers when the server does", async () => {
    const mailer = mailerFor();
    sink.setMode("refuse");
    await expectAppError(mailer.send({ to: "again@example.com", subject: "s", text: "t" }), "DEPENDENCY_UNAVAILABLE");
    sink.setMode("accept");
    await mailer.send({ to: "again@example.com", subject: "s", text: "second try" });
    expect((await sink.waitFor("again@example.com", 5000)).text).toContain("second try");
  });

  test.each([
    "victim@example.com\r\nBcc: evil@example.com",
    "victim@example.com\nX-Injected: 1",
    "Evil <evil@example.com>",
    "a@example.com, b@example.com",
    "a@example.com;b@example.com",
    "no-at-sign",
    "",
  ])("rejects an unsafe recipient %p with INVALID_ARGUMENT before touching the network", async (to) => {
    const before = sink.connectionCount;
    const err = await expectAppError(mailerFor().send({ to, subject: "s", text: "t" }), "INVALID_ARGUMENT");
    expect(err.message).not.toContain("example.com");
    expect(sink.connectionCount).toBe(before);
  });

  test("a sender name with a line break is refused at construction", () => {
    expect(() => createSmtpMailer({ ...baseOptions(sink.port), fromName: "Identra\r\nBcc: x@y.z" })).toThrow(AppError);
  });

  test("send after close → DEPENDENCY_UNAVAILABLE", async () => {
    const mailer = mailerFor();
    await mailer.close();
    await expectAppError(mailer.send({ to: "closed@example.com", subject: "s", text: "t" }), "DEPENDENCY_UNAVAILABLE");
  });
});
