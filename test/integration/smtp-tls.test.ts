// The mailer's TLS modes against real SMTP servers on loopback with a throw-away certificate:
// implicit TLS, required STARTTLS (no silent fallback to plain), and certificate checks on by default.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { createSmtpMailer, type SmtpMailerOptions } from "../../src/adapters/smtp/mailer.ts";

let key = "";
let cert = "";
const servers: SMTPServer[] = [];
const delivered: { secure: boolean; to: string }[] = [];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "identra-smtp-tls-"));
  const r = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
  key = readFileSync(join(dir, "k.pem"), "utf8");
  cert = readFileSync(join(dir, "c.pem"), "utf8");
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function startServer(options: { secure: boolean; starttls: boolean }): Promise<number> {
  const server = new SMTPServer({
    secure: options.secure,
    key,
    cert,
    authOptional: true,
    disabledCommands: options.starttls || options.secure ? [] : ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on("end", () => {
        delivered.push({ secure: session.secure, to: session.envelope.rcptTo[0]?.address ?? "" });
        callback();
      });
    },
  });
  server.on("error", () => {}); // a client refusing our certificate hangs up mid-handshake
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.server.address() as { port: number }).port;
}

const mailer = (port: number, over: Partial<SmtpMailerOptions>) =>
  createSmtpMailer({ host: "127.0.0.1", port, fromEmail: "noreply@identra.test", fromName: "Identra", secure: false, startTls: false, connectTimeoutMs: 2000, sendTimeoutMs: 2000, pool: true, ...over });

const send = (m: ReturnType<typeof mailer>, to: string) => m.send({ to, subject: "Your Verification Code", text: "123456" });

test("implicit TLS delivers over an encrypted session", async () => {
  const port = await startServer({ secure: true, starttls: false });
  const m = mailer(port, { secure: true, tlsRejectUnauthorized: false });
  await send(m, "implicit@example.com");
  await m.close();
  expect(delivered.find((d) => d.to === "implicit@example.com")?.secure).toBe(true);
});

test("required STARTTLS upgrades before sending", async () => {
  const port = await startServer({ secure: false, starttls: true });
  const m = mailer(port, { startTls: true, tlsRejectUnauthorized: false });
  await send(m, "starttls@example.com");
  await m.close();
  expect(delivered.find((d) => d.to === "starttls@example.com")?.secure).toBe(true);
});

test("required STARTTLS against a server without it fails instead of sending in plain text", async () => {
  const port = await startServer({ secure: false, starttls: false });
  const m = mailer(port, { startTls: true });
  await expect(send(m, "downgrade@example.com")).rejects.toMatchObject({ reason: "DEPENDENCY_UNAVAILABLE" });
  await m.close();
  expect(delivered.some((d) => d.to === "downgrade@example.com")).toBe(false);
});

test("certificates are verified by default (a self-signed one is refused)", async () => {
  const port = await startServer({ secure: true, starttls: false });
  const m = mailer(port, { secure: true });
  await expect(send(m, "selfsigned@example.com")).rejects.toMatchObject({ reason: "DEPENDENCY_UNAVAILABLE" });
  await m.close();
  expect(delivered.some((d) => d.to === "selfsigned@example.com")).toBe(false);
});

test("plain mode (secure=false, start_tls=false) sends without TLS to a local relay", async () => {
  const port = await startServer({ secure: false, starttls: false });
  const m = mailer(port, {});
  await send(m, "plain@example.com");
  await m.close();
  expect(delivered.find((d) => d.to === "plain@example.com")?.secure).toBe(false);
});
