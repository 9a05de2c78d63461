import { AppError } from "./errors.ts";

// ASCII addresses only (no SMTPUTF8): what every relay accepts, and no look-alike Unicode accounts.
const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Trims and lower-cases; throws INVALID_ARGUMENT saying why an address is not acceptable. */
export function normalizeEmail(input: string): string {
  const email = input.trim().toLowerCase();
  const invalid = (why: string) => new AppError("INVALID_ARGUMENT", `email is not a valid address: ${why}`);
  if (email.length > 254) throw invalid("longer than 254 characters");
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) throw invalid("expected name@domain");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64) throw invalid("the part before @ is longer than 64 characters");
  if (!LOCAL.test(local)) throw invalid("the part before @ has characters that are not allowed");
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!)) {
    throw invalid("the domain is not valid");
  }
  return email;
}
