import { AppError } from "./errors.ts";

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** Length in Unicode code points, checked before any hashing work. */
export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw new AppError("INVALID_ARGUMENT", `password must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) throw new AppError("INVALID_ARGUMENT", `password must be at most ${PASSWORD_MAX} characters`);
  if (password.includes("\u0000")) throw new AppError("INVALID_ARGUMENT", "password must not contain NUL characters");
}
