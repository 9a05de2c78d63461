import { expect } from "bun:test";
import { AppError } from "../../src/domain/errors.ts";
import type { ErrorCode } from "../../src/domain/errors.ts";
import type { SigningAlgorithm, SigningKeyRecord } from "../../src/domain/keys.ts";
import type { RefreshFamily } from "../../src/domain/refresh-family.ts";
import type { ExternalIdentity, User } from "../../src/domain/user.ts";

let counter = 0;
/** Unique enough ids for one test run (UUID v4 shaped; the stores do not parse them). */
export const nextId = (): string => {
  counter += 1;
  const hex = counter.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
};

export const aUser = (overrides: Partial<User> = {}): User => {
  const id = overrides.id ?? nextId();
  return {
    id,
    email: `user-${id.slice(-6)}@example.com`,
    passwordHash: "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    emailVerified: false,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    lastLoginAt: null,
    disabled: false,
    ...overrides,
  };
};

export const anIdentity = (userId: string, overrides: Partial<ExternalIdentity> = {}): ExternalIdentity => ({
  provider: "github",
  providerUserId: String(100_000 + Number.parseInt(nextId().slice(-6), 16)),
  userId,
  createdAt: 1_700_000_000_500,
  ...overrides,
});

export const aKey = (overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
  kid: `kid-${nextId().slice(-8)}`,
  alg: "RS256" as SigningAlgorithm,
  privateKeyPem: "-----BEGIN PRIVATE KEY-----\nMIIfake\n-----END PRIVATE KEY-----\n",
  state: "PASSIVE",
  createdAt: 1_700_000_000_000,
  promoteAt: null,
  activatedAt: null,
  retiredAt: null,
  ...overrides,
});

export const aFamily = (overrides: Partial<RefreshFamily> = {}): RefreshFamily => ({
  id: nextId(),
  userId: nextId(),
  currentJti: `jti-${nextId().slice(-8)}`,
  currentAccessJti: `ajti-${nextId().slice(-8)}`,
  currentIssuedAt: 1_700_000_000,
  previousJti: null,
  rotatedAt: null,
  revokedAt: null,
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_604_800_000,
  ...overrides,
});

/** Awaits `promise` and expects it to reject with an AppError of `reason`. */
export const expectAppError = async (promise: Promise<unknown>, reason: ErrorCode): Promise<AppError> => {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).reason).toBe(reason);
  return caught as AppError;
};

/** Settles every promise and splits fulfilled values from rejection reasons. */
export const settle = async <T>(promises: Promise<T>[]): Promise<{ ok: T[]; failed: unknown[] }> => {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])),
    failed: results.flatMap((r) => (r.status === "rejected" ? [r.reason] : [])),
  };
};
