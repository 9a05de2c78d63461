// Mailer over SMTP (nodemailer, pooled connections). `send` never hangs: nodemailer's own connection,
// greeting and socket timeouts bound each step, and an outer timer bounds the whole send. Every
// delivery failure becomes DEPENDENCY_UNAVAILABLE; the cause is attached, never put in the message.
import { createTransport } from "nodemailer";
import type { Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool";
import { AppError } from "../../domain/errors.ts";
import type { MailMessage, Mailer } from "../../ports/mailer.ts";

export interface SmtpMailerOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  fromEmail: string;
  fromName: string;
  /** Implicit TLS from the first byte (usually port 465). */
  secure: boolean;
  /** When true, STARTTLS is required; when false (and not `secure`), the connection stays plain. */
  startTls: boolean;
  /** Bound on TCP connect, and separately on the server greeting. */
  connectTimeoutMs: number;
  /** Bound on socket inactivity during a send; the whole send is bounded by connect + send. */
  sendTimeoutMs: number;
  pool?: true;
  /** Defaults to true. Only set false for a local relay with a self-signed certificate. */
  tlsRejectUnauthorized?: boolean;
  maxConnections?: number;
}

export const MAIL_UNAVAILABLE_MESSAGE = "mail service is unavailable";

const unavailable = (cause: unknown): AppError =>
  new AppError("DEPENDENCY_UNAVAILABLE", MAIL_UNAVAILABLE_MESSAGE, { cause });

// Anything that could end a header line, open/close an address, or separate two addresses.
const FORBIDDEN_IN_ADDRESS = /[\u0000-\u0020\u007f-\u009f\u2028\u2029<>,;"()\[\]\\]/;
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Defence in depth: the services normalise and validate addresses before they get here. */
export const isSafeMailAddress = (address: string): boolean => {
  if (address.length === 0 || address.length > 254 || FORBIDDEN_IN_ADDRESS.test(address)) return false;
  const at = address.lastIndexOf("@");
  return at > 0 && at < address.length - 1 && address.indexOf("@") === at;
};

const requireSafeAddress = (address: string, what: string): void => {
  if (!isSafeMailAddress(address)) throw new AppError("INVALID_ARGUMENT", `invalid ${what} address`);
};

type PoolTransporter = Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;

export const createSmtpMailer = (options: SmtpMailerOptions): Mailer => {
  requireSafeAddress(options.fromEmail, "sender");
  if (FORBIDDEN_IN_NAME.test(options.fromName)) {
    throw new AppError("INVALID_ARGUMENT", "sender name must not contain control characters");
  }
  const from = { name: options.fromName, address: options.fromEmail };
  const plain = !options.secure && !options.startTls;

  // `maxRequeues` is a nodemailer 7 pool option its type definitions do not list yet.
  const transportOptions: SMTPPool.Options & { maxRequeues: number } = {
    pool: true,
    host: options.host,
    port: options.port,
    secure: options.secure,
    requireTLS: !options.secure && options.startTls,
    ignoreTLS: plain,
    ...(options.username ? { auth: { user: options.username, pass: options.password ?? "" } } : {}),
    connectionTimeout: options.connectTimeoutMs,
    greetingTimeout: options.connectTimeoutMs,
    dnsTimeout: options.connectTimeoutMs,
    socketTimeout: options.sendTimeoutMs,
    maxConnections: options.maxConnections ?? 5,
    // A server that keeps dropping the connection must not make the pool retry forever.
    maxRequeues: 1,
    tls: { rejectUnauthorized: options.tlsRejectUnauthorized ?? true },
    logger: false,
    debug: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  };

  const outerTimeoutMs = options.connectTimeoutMs + options.sendTimeoutMs;
  let transport: PoolTransporter | null = null;
  let closed = false;

  const current = (): PoolTransporter => (transport ??= createTransport(transportOptions));

  /** Drops a pool that has a stuck send; the next send starts a fresh one. */
  const discard = (stuck: PoolTransporter): void => {
    if (transport === stuck) transport = null;
    stuck.close();
  };

  const send = async (message: MailMessage): Promise<void> => {
    requireSafeAddress(message.to, "recipient");
    if (closed) throw unavailable(new Error("mailer is closed"));
    const t = current();
    const mail = {
      from,
      to: { name: "", address: message.to },
      subject: message.subject.replace(/[\r\n\u2028\u2029]+/g, " "),
      text: message.text,
      ...(message.html === undefined ? {} : { html: message.html }),
    };

    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        discard(t);
        reject(new Error(`send did not finish within ${outerTimeoutMs} ms`));
      }, outerTimeoutMs);
    });
    try {
      const info = await Promise.race([t.sendMail(mail), deadline]);
      if (info.rejected.length > 0) throw new Error("recipient rejected");
    } catch (e) {
      throw unavailable(e);
    } finally {
      clearTimeout(timer);
    }
  };

  const close = async (): Promise<void> => {
    closed = true;
    transport?.close();
    transport = null;
  };

  return { send, close };
};
