import { describe, expect, test } from "bun:test";
import { escapeHtml, renderLoginCodeMail } from "../../src/domain/login-code-mail.ts";

describe("renderLoginCodeMail", () => {
  test("subject is exactly the contract text", () => {
    expect(renderLoginCodeMail({ code: "123456", ttlMinutes: 10 }).subject).toBe("Your Verification Code");
  });

  test("code and lifetime appear in both bodies", () => {
    const mail = renderLoginCodeMail({ code: "042917", ttlMinutes: 10 });
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain("042917");
      expect(body).toContain("expires in 10 minutes");
      expect(body).toContain("Identra");
    }
  });

  test("singular minute and fractional lifetimes round up", () => {
    expect(renderLoginCodeMail({ code: "1", ttlMinutes: 1 }).text).toContain("expires in 1 minute.");
    expect(renderLoginCodeMail({ code: "1", ttlMinutes: 0.5 }).text).toContain("expires in 1 minute.");
    expect(renderLoginCodeMail({ code: "1", ttlMinutes: 2.1 }).text).toContain("expires in 3 minutes");
  });

  test("rejects a non-positive or non-finite lifetime", () => {
    for (const ttlMinutes of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => renderLoginCodeMail({ code: "1", ttlMinutes })).toThrow(RangeError);
    }
  });

  test("html is a mobile-friendly document with a monospaced code", () => {
    const { html } = renderLoginCodeMail({ code: "123456", ttlMinutes: 10 });
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain('name="viewport"');
    expect(html).toContain("max-width:480px");
    expect(html).toMatch(/monospace;font-size:32px[^>]*>123456</);
    expect(html).not.toContain("<style");
    expect(html).not.toContain("<script");
  });

  test("every interpolated value is HTML-escaped", () => {
    const mail = renderLoginCodeMail({
      code: `<script>alert("x")</script>`,
      ttlMinutes: 5,
      appName: `Acme & "Sons" <img src=x onerror=alert(1)> 'q'`,
    });
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<img");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(mail.html).toContain("Acme &amp; &quot;Sons&quot; &lt;img src=x onerror=alert(1)&gt; &#39;q&#39;");
    // The plain-text body is not HTML: it shows the value as written.
    expect(mail.text).toContain(`<script>alert("x")</script>`);
  });

  test("escapeHtml covers the five significant characters", () => {
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
    expect(escapeHtml("plain 123")).toBe("plain 123");
  });

  test("no CR/LF or other control characters from inputs reach the mail", () => {
    const mail = renderLoginCodeMail({
      code: "123456\r\nBcc: victim@example.com",
      ttlMinutes: 10,
      appName: "Evil\r\nX-Injected: 1\u2028\u0000\u0085App",
    });
    expect(mail.subject).toBe("Your Verification Code");
    expect(mail.subject).not.toMatch(/[\r\n]/);
    for (const body of [mail.text, mail.html]) {
      expect(body).not.toContain("\r");
      expect(body).not.toMatch(/[\u0000\u0085\u2028\u2029]/);
      expect(body).not.toMatch(/\nBcc:/);
      expect(body).not.toMatch(/\nX-Injected:/);
    }
    expect(mail.text).toContain("123456 Bcc: victim@example.com");
    expect(mail.text).toContain("Your Evil X-Injected: 1 App verification code is:");
  });

  test("an app name made only of control characters falls back to Identra", () => {
    expect(renderLoginCodeMail({ code: "1", ttlMinutes: 1, appName: "\r\n" }).text).toContain(
      "Your Identra verification code",
    );
  });
});
