// The login-code mail (identra-api.md §5): subject `Your Verification Code`, a plain-text body and an
// HTML body, both showing the code and its lifetime. Pure: no I/O, no time, no randomness.

export const LOGIN_CODE_MAIL_SUBJECT = "Your Verification Code";

export interface LoginCodeMailInput {
  code: string;
  /** Lifetime of the code in whole minutes (rounded up when fractional, at least 1). */
  ttlMinutes: number;
  appName?: string;
}

export interface LoginCodeMail {
  subject: typeof LOGIN_CODE_MAIL_SUBJECT;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes a value for HTML text and double- or single-quoted attribute contexts. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * Collapses every control character (CR, LF, TAB, NUL, DEL, C1, and the Unicode line/paragraph
 * separators) to a single space, so an input can never start a new line of the mail.
 */
const singleLine = (value: string): string =>
  value
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();

const minutesOf = (ttlMinutes: number): number => {
  if (!Number.isFinite(ttlMinutes) || ttlMinutes <= 0) {
    throw new RangeError("ttlMinutes must be a positive finite number");
  }
  return Math.max(1, Math.ceil(ttlMinutes));
};

const lifetime = (minutes: number): string => (minutes === 1 ? "1 minute" : `${minutes} minutes`);

export const renderLoginCodeMail = ({ code, ttlMinutes, appName = "Identra" }: LoginCodeMailInput): LoginCodeMail => {
  const safeCode = singleLine(code);
  const safeApp = singleLine(appName) || "Identra";
  const expires = `This code expires in ${lifetime(minutesOf(ttlMinutes))}.`;

  const text = [
    `Your ${safeApp} verification code is:`,
    "",
    `    ${safeCode}`,
    "",
    expires,
    "",
    "If you did not request this code, you can ignore this email. Never share this code with anyone.",
    "",
  ].join("\n");

  return {
    subject: LOGIN_CODE_MAIL_SUBJECT,
    text,
    html: renderHtml(escapeHtml(safeCode), escapeHtml(safeApp), expires),
  };
};

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "'SFMono-Regular',Menlo,Consolas,'Liberation Mono','Courier New',monospace";

/** All arguments are already HTML-escaped (expires is built from a number only). */
const renderHtml = (code: string, app: string, expires: string): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>Your Verification Code</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f5f7;">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;">Your ${app} verification code. ${expires}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f5f7;">
<tr>
<td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:480px;width:100%;background-color:#ffffff;border-radius:8px;">
<tr>
<td style="padding:32px 24px;font-family:${FONT};color:#1f2328;font-size:16px;line-height:24px;">
<h1 style="margin:0 0 16px 0;font-size:20px;line-height:28px;font-weight:600;">${app} verification code</h1>
<p style="margin:0 0 24px 0;">Use this code to sign in:</p>
<p style="margin:0 0 24px 0;padding:16px 8px;text-align:center;background-color:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;font-family:${MONO};font-size:32px;line-height:40px;font-weight:700;letter-spacing:6px;word-break:break-all;">${code}</p>
<p style="margin:0 0 16px 0;">${expires}</p>
<p style="margin:0;font-size:14px;line-height:20px;color:#57606a;">If you did not request this code, you can ignore this email. Never share this code with anyone.</p>
</td>
</tr>
</table>
</td>
</tr>
</table>
</body>
</html>
`;
