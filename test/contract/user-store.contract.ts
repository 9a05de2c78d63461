import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { AppError } from "../../src/domain/errors.ts";
import type { UserStore } from "../../src/ports/user-store.ts";
import { aUser, anIdentity, expectAppError, settle } from "./builders.ts";

export interface UserStoreFixture {
  users: UserStore;
  close(): Promise<void>;
}

/** The UserStore contract: every adapter (memory, sqlite, mongo) runs exactly this suite. */
export const runUserStoreContract = (name: string, makeStores: () => Promise<UserStoreFixture>): void => {
  describe(`UserStore contract: ${name}`, () => {
    let fixture: UserStoreFixture;
    let users: UserStore;
    beforeEach(async () => {
      fixture = await makeStores();
      users = fixture.users;
    });
    afterEach(async () => {
      await fixture.close();
    });

    test("create, then find by id and by email", async () => {
      const u = aUser({ lastLoginAt: 1_700_000_000_123, emailVerified: true });
      await users.create(u);
      expect(await users.findById(u.id)).toEqual(u);
      expect(await users.findByEmail(u.email)).toEqual(u);
    });

    test("unknown id or email → null", async () => {
      expect(await users.findById("00000000-0000-4000-8000-ffffffffffff")).toBeNull();
      expect(await users.findByEmail("nobody@example.com")).toBeNull();
    });

    test("a null password hash round-trips", async () => {
      const u = aUser({ passwordHash: null, disabled: true });
      await users.create(u);
      expect(await users.findById(u.id)).toEqual(u);
    });

    test("duplicate email → USER_EXISTS, the first user unchanged", async () => {
      const first = aUser();
      await users.create(first);
      await expectAppError(users.create(aUser({ email: first.email })), "USER_EXISTS");
      expect(await users.findByEmail(first.email)).toEqual(first);
    });

    test("concurrent creates of one email: exactly one wins, the rest USER_EXISTS", async () => {
      const email = aUser().email;
      const { ok, failed } = await settle(Array.from({ length: 10 }, () => users.create(aUser({ email }))));
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(9);
      for (const e of failed) expect((e as AppError).reason).toBe("USER_EXISTS");
    });

    test("update applies only the patch and sets updatedAt", async () => {
      const u = aUser();
      await users.create(u);
      const updated = await users.update(u.id, { lastLoginAt: 1_700_000_100_000, disabled: true }, 1_700_000_200_000);
      const expected = { ...u, lastLoginAt: 1_700_000_100_000, disabled: true, updatedAt: 1_700_000_200_000 };
      expect(updated).toEqual(expected);
      expect(await users.findById(u.id)).toEqual(expected);
    });

    test("update can clear the password and set emailVerified", async () => {
      const u = aUser();
      await users.create(u);
      const updated = await users.update(u.id, { passwordHash: null, emailVerified: true }, 1_700_000_300_000);
      expect(updated?.passwordHash).toBeNull();
      expect(updated?.emailVerified).toBe(true);
      expect(updated?.email).toBe(u.email);
    });

    test("update of an unknown user → null", async () => {
      expect(await users.update("00000000-0000-4000-8000-ffffffffffff", { disabled: true }, 1)).toBeNull();
    });

    test("markEmailVerified removes the password of an unverified account", async () => {
      const u = aUser({ emailVerified: false });
      await users.create(u);
      expect(await users.markEmailVerified(u.id, 1_700_000_400_000)).toEqual({ passwordRemoved: true, identitiesRemoved: 0 });
      const after = await users.findById(u.id);
      expect(after).toMatchObject({ emailVerified: true, passwordHash: null, updatedAt: 1_700_000_400_000 });
    });

    test("markEmailVerified keeps the password of an already verified account", async () => {
      const u = aUser({ emailVerified: true });
      await users.create(u);
      const ident = anIdentity(u.id);
      await users.linkIdentity(ident);
      expect(await users.markEmailVerified(u.id, 1_700_000_400_000)).toEqual({ passwordRemoved: false, identitiesRemoved: 0 });
      expect((await users.findById(u.id))?.passwordHash).toBe(u.passwordHash);
      expect(await users.listIdentities(u.id)).toEqual([ident]);
    });

    test("markEmailVerified of an unverified account without password → passwordRemoved false", async () => {
      const u = aUser({ emailVerified: false, passwordHash: null });
      await users.create(u);
      expect(await users.markEmailVerified(u.id, 1_700_000_400_000)).toEqual({ passwordRemoved: false, identitiesRemoved: 0 });
      expect((await users.findById(u.id))?.emailVerified).toBe(true);
    });

    test("markEmailVerified of an unverified account removes the identities an unproven sign-up linked", async () => {
      const u = aUser({ emailVerified: false });
      await users.create(u);
      const ident = anIdentity(u.id);
      await users.linkIdentity(ident);
      expect(await users.markEmailVerified(u.id, 1_700_000_400_000)).toEqual({ passwordRemoved: true, identitiesRemoved: 1 });
      expect(await users.listIdentities(u.id)).toEqual([]);
      expect(await users.findIdentity(ident.provider, ident.providerUserId)).toBeNull();
    });

    test("markEmailVerified of an unknown user → null", async () => {
      expect(await users.markEmailVerified("00000000-0000-4000-8000-ffffffffffff", 1)).toBeNull();
    });

    test("linkIdentity: created, then unchanged; found and listed", async () => {
      const u = aUser();
      await users.create(u);
      const ident = anIdentity(u.id);
      expect(await users.linkIdentity(ident)).toBe("created");
      expect(await users.linkIdentity({ ...ident, createdAt: ident.createdAt + 5 })).toBe("unchanged");
      expect(await users.findIdentity(ident.provider, ident.providerUserId)).toEqual(ident);
      expect(await users.listIdentities(u.id)).toEqual([ident]);
      expect(await users.findIdentity(ident.provider, "no-such-id")).toBeNull();
      expect(await users.listIdentities("00000000-0000-4000-8000-ffffffffffff")).toEqual([]);
    });

    test("linkIdentity of an identity owned by another user → OAUTH_ALREADY_LINKED", async () => {
      const owner = aUser();
      const other = aUser();
      await users.create(owner);
      await users.create(other);
      const ident = anIdentity(owner.id);
      await users.linkIdentity(ident);
      await expectAppError(users.linkIdentity({ ...ident, userId: other.id }), "OAUTH_ALREADY_LINKED");
      expect((await users.findIdentity(ident.provider, ident.providerUserId))?.userId).toBe(owner.id);
      expect(await users.listIdentities(other.id)).toEqual([]);
    });

    test("a second identity of the same provider for one user → OAUTH_ALREADY_LINKED", async () => {
      const u = aUser();
      await users.create(u);
      const first = anIdentity(u.id);
      await users.linkIdentity(first);
      const second = anIdentity(u.id);
      await expectAppError(users.linkIdentity(second), "OAUTH_ALREADY_LINKED");
      expect(await users.findIdentity(second.provider, second.providerUserId)).toBeNull();
      expect(await users.listIdentities(u.id)).toEqual([first]);
    });

    test("identities of different providers can be linked to one user", async () => {
      const u = aUser();
      await users.create(u);
      const gh = anIdentity(u.id, { provider: "github" });
      const gl = anIdentity(u.id, { provider: "gitlab", createdAt: gh.createdAt + 1 });
      expect(await users.linkIdentity(gh)).toBe("created");
      expect(await users.linkIdentity(gl)).toBe("created");
      const listed = await users.listIdentities(u.id);
      expect([...listed].sort((a, b) => a.provider.localeCompare(b.provider))).toEqual([gh, gl]);
    });

    test("create with an identity stores both", async () => {
      const u = aUser({ passwordHash: null, emailVerified: true });
      const ident = anIdentity(u.id);
      await users.create(u, ident);
      expect(await users.findById(u.id)).toEqual(u);
      expect(await users.findIdentity(ident.provider, ident.providerUserId)).toEqual(ident);
    });

    test("create with a taken identity → OAUTH_ALREADY_LINKED and nothing is created", async () => {
      const owner = aUser();
      const ident = anIdentity(owner.id);
      await users.create(owner, ident);
      const newcomer = aUser();
      await expectAppError(users.create(newcomer, { ...ident, userId: newcomer.id }), "OAUTH_ALREADY_LINKED");
      expect(await users.findById(newcomer.id)).toBeNull();
      expect(await users.findByEmail(newcomer.email)).toBeNull();
      expect((await users.findIdentity(ident.provider, ident.providerUserId))?.userId).toBe(owner.id);
    });

    test("create with a taken email and a new identity → USER_EXISTS and the identity is not stored", async () => {
      const first = aUser();
      await users.create(first);
      const dup = aUser({ email: first.email });
      const ident = anIdentity(dup.id);
      await expectAppError(users.create(dup, ident), "USER_EXISTS");
      expect(await users.findIdentity(ident.provider, ident.providerUserId)).toBeNull();
      expect(await users.findById(dup.id)).toBeNull();
    });

    test("ping resolves", async () => {
      await users.ping();
    });
  });
};
