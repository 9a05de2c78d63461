// An SMTP server on a free loopback port that records every message it accepts. Modes:
//   accept — take every message;
//   refuse — answer MAIL FROM with 550 (a permanent 5xx);
//   hang   — accept the TCP connection and never send the greeting (for timeout tests).
import { SMTPServer } from "smtp-server";
import type { SMTPServerSession } from "smtp-server";

export type SmtpSinkMode = "accept" | "refuse" | "hang";

export interface CapturedMail {
  /** First envelope recipient (RCPT TO). */
  to: string;
  /** Every envelope recipient. */
  recipients: string[];
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Header names lower-cased; unfolded, values as on the wire (encoded words decoded for subject). */
  headers: Record<string, string>;
  subject: string;
  /** The text/plain part, decoded ("" when absent). */
  text: string;
  /** The text/html part, decoded, or null when absent. */
  html: string | null;
  raw: string;
  /** The SMTP session that carried the message (equal ids ⇒ same connection). */
  sessionId: string;
}

export interface SmtpSink {
  host: "127.0.0.1";
  port: number;
  messages: CapturedMail[];
  /** Number of TCP connections the sink has seen. */
  readonly connectionCount: number;
  /**
   * The oldest message to `to` not yet returned by waitFor (each call consumes one), waiting for it
   * up to timeoutMs.
   */
  waitFor(to: string, timeoutMs?: number): Promise<CapturedMail>;
  setMode(mode: SmtpSinkMode): void;
  stop(): Promise<void>;
}

export interface SmtpSinkOptions {
  mode?: SmtpSinkMode;
}

export const startSmtpSink = async ({ mode: initialMode = "accept" }: SmtpSinkOptions = {}): Promise<SmtpSink> => {
  let mode = initialMode;
  let connectionCount = 0;
  const messages: CapturedMail[] = [];
  const consumed = new Set<CapturedMail>();
  const waiters = new Set<() => void>();
  const hung = new Set<(err?: Error) => void>();

  const refusal = (): Error =>
    Object.assign(new Error("Mailbox unavailable (sink in refuse mode)"), { responseCode: 550 });

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 100,
    onConnect(_session, callback) {
      connectionCount += 1;
      if (mode === "hang") {
        hung.add(callback); // never greet until stop()
        return;
      }
      callback();
    },
    onMailFrom(_address, _session, callback) {
      callback(mode === "refuse" ? refusal() : undefined);
    },
    onRcptTo(_address, _session, callback) {
      callback(mode === "refuse" ? refusal() : undefined);
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        messages.push(parseCaptured(raw, session));
        for (const wake of [...waiters]) wake();
        callback();
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {}); // client-side resets are expected in the failure tests
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("smtp sink: no TCP address");

  const take = (to: string): CapturedMail | undefined => {
    const want = to.toLowerCase();
    const found = messages.find((m) => !consumed.has(m) && m.recipients.some((r) => r.toLowerCase() === want));
    if (found) consumed.add(found);
    return found;
  };

  const waitFor = (to: string, timeoutMs = 5000): Promise<CapturedMail> =>
    new Promise((resolve, reject) => {
      const now = take(to);
      if (now) return resolve(now);
      const wake = (): void => {
        const m = take(to);
        if (!m) return;
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`smtp sink: no mail to ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(wake);
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const release of hung) release(Object.assign(new Error("shutting down"), { responseCode: 421 }));
      hung.clear();
      const connections = (server as unknown as { connections?: Set<{ close(): void }> }).connections;
      for (const c of connections ?? []) c.close();
      server.close(() => resolve());
    });

  return {
    host: "127.0.0.1",
    port: address.port,
    messages,
    get connectionCount() {
      return connectionCount;
    },
    waitFor,
    setMode(next) {
      mode = next;
    },
    stop,
  };
};

/** The 6-digit code in a login-code mail (text part first, then HTML). */
export const extractCode = (mail: CapturedMail): string => {
  const match = /\b(\d{6})\b/.exec(mail.text) ?? /(?:^|[^\d#&])(\d{6})(?![\d;])/.exec(mail.html ?? "");
  if (!match?.[1]) throw new Error("no 6-digit code in mail");
  return match[1];
};

// ---- a small MIME reader: enough for what nodemailer writes ------------------------------------

interface Part {
  headers: Record<string, string>;
  body: string;
}

const splitPart = (raw: string): Part => {
  const normalized = raw.replace(/\r\n/g, "\n");
  const end = normalized.indexOf("\n\n");
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? "" : normalized.slice(end + 2);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!(key in headers)) headers[key] = line.slice(colon + 1).trim();
  }
  return { headers, body };
};

const param = (header: string | undefined, name: string): string | undefined => {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i").exec(header ?? "");
  return m ? (m[1] ?? m[2]) : undefined;
};

const decodeQuotedPrintable = (s: string): Buffer => {
  const soft = s.replace(/=\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const ch = soft[i] as string;
    const hex = soft.slice(i + 1, i + 3);
    if (ch === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, "utf8"));
    }
  }
  return Buffer.from(bytes);
};

/** TextDecoder takes any WHATWG label at run time; its type lists only a few. */
const decoderFor = (label: string): TextDecoder => new TextDecoder(label as "utf-8");

const decodeBody = (part: Part): string => {
  const encoding = (part.headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const charset = (param(part.headers["content-type"], "charset") ?? "utf-8").toLowerCase();
  const buf =
    encoding === "base64"
      ? Buffer.from(part.body.replace(/\s+/g, ""), "base64")
      : encoding === "quoted-printable"
        ? decodeQuotedPrintable(part.body)
        : Buffer.from(part.body, "utf8");
  return decoderFor(charset === "us-ascii" ? "utf-8" : charset).decode(buf);
};

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=` / `=?UTF-8?B?...?=`). */
const decodeWords = (value: string): string =>
  value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
      const buf =
        enc.toUpperCase() === "B" ? Buffer.from(data, "base64") : decodeQuotedPrintable(data.replace(/_/g, " "));
      return decoderFor(charset.toLowerCase()).decode(buf);
    });

const leaves = (part: Part): Part[] => {
  const type = part.headers["content-type"] ?? "text/plain";
  if (!/^multipart\//i.test(type)) return [part];
  const boundary = param(type, "boundary");
  if (!boundary) return [];
  const sections = part.body.split(`--${boundary}`);
  return sections
    .slice(1)
    .filter((s) => !s.startsWith("--"))
    .flatMap((s) => leaves(splitPart(s.replace(/^\n/, "").replace(/\n$/, ""))));
};

const parseCaptured = (raw: string, session: SMTPServerSession): CapturedMail => {
  const top = splitPart(raw);
  const parts = leaves(top);
  const find = (type: string): Part | undefined =>
    parts.find((p) => (p.headers["content-type"] ?? "text/plain").toLowerCase().startsWith(type));
  const textPart = find("text/plain");
  const htmlPart = find("text/html");
  const recipients = session.envelope.rcptTo.map((r) => r.address);
  const mailFrom = session.envelope.mailFrom;
  return {
    to: recipients[0] ?? "",
    recipients,
    from: mailFrom ? mailFrom.address : "",
    headers: top.headers,
    subject: decodeWords(top.headers.subject ?? ""),
    text: textPart ? decodeBody(textPart) : "",
    html: htmlPart ? decodeBody(htmlPart) : null,
    raw,
    sessionId: session.id,
  };
};

/** The server settings for plain SMTP to a sink on loopback at `port`. */
export const smtpEnv = (port: number): Record<string, string> => ({
  IDENTRA_SMTP_MAILER_HOST: "127.0.0.1",
  IDENTRA_SMTP_MAILER_PORT: String(port),
  IDENTRA_SMTP_MAILER_START_TLS: "false",
  IDENTRA_SMTP_MAILER_SECURE: "false",
  IDENTRA_SMTP_MAILER_FROM_EMAIL: "noreply@identra.test",
});
