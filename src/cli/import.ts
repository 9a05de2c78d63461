// `identra import --from <sqlite path | mongodb uri>`: copies an existing Identra deployment's users
// and GitHub links into the configured store. Idempotent: what is already there is left alone.
import type { Config } from "../config/types.ts";
import { isAppError } from "../domain/errors.ts";
import { normalizeEmail } from "../domain/email.ts";
import type { Logger } from "../ports/system.ts";
import type { UserStore } from "../ports/user-store.ts";
import { openStores } from "../stores.ts";
import { readLegacy, type LegacyData } from "./legacy-source.ts";

export interface ImportSummary {
  usersCreated: number;
  usersUnchanged: number;
  usersSkipped: number;
  identitiesCreated: number;
  identitiesUnchanged: number;
  identitiesSkipped: number;
}

/**
 * Imported accounts with a password are `email_verified = false` (the old service never checked
 * addresses), so the pre-hijack guard still applies to them; accounts without a password were made
 * by email code or GitHub and are marked verified. Argon2id PHC hashes are kept as they are.
 */
export async function importLegacy(data: LegacyData, users: UserStore, now: number, logger: Logger): Promise<ImportSummary> {
  const s: ImportSummary = { usersCreated: 0, usersUnchanged: 0, usersSkipped: 0, identitiesCreated: 0, identitiesUnchanged: 0, identitiesSkipped: 0 };
  const identities = [...data.identities];
  for (const u of data.users) {
    if (u.githubId) identities.push({ userId: u.id, provider: "github", providerUserId: u.githubId, createdAt: u.createdAt });
    let email: string;
    try {
      email = normalizeEmail(u.email);
    } catch {
      s.usersSkipped++;
      logger.warn("import: skipped a user with an invalid email", { user_id: u.id });
      continue;
    }
    if (await users.findById(u.id)) {
      s.usersUnchanged++;
      continue;
    }
    if (await users.findByEmail(email)) {
      s.usersSkipped++;
      logger.warn("import: skipped a user whose email belongs to another account here", { user_id: u.id });
      continue;
    }
    const hash = u.passwordHash?.startsWith("$argon2") ? u.passwordHash : null;
    if (u.passwordHash && !hash) logger.warn("import: password hash is not Argon2 PHC; the user must log in another way", { user_id: u.id });
    await users.create({ id: u.id, email, passwordHash: hash, emailVerified: hash === null, createdAt: u.createdAt || now, updatedAt: u.updatedAt || now, lastLoginAt: u.lastLoginAt, disabled: false });
    s.usersCreated++;
  }
  for (const i of identities) {
    if (!(await users.findById(i.userId))) {
      s.identitiesSkipped++;
      continue;
    }
    try {
      const r = await users.linkIdentity({ provider: i.provider, providerUserId: i.providerUserId, userId: i.userId, createdAt: i.createdAt || now });
      if (r === "created") s.identitiesCreated++;
      else s.identitiesUnchanged++;
    } catch (e) {
      if (!isAppError(e) || e.reason !== "OAUTH_ALREADY_LINKED") throw e;
      s.identitiesSkipped++;
      logger.warn("import: skipped an identity linked to another account here", { user_id: i.userId, provider: i.provider });
    }
  }
  return s;
}

export async function runImport(argv: string[], deps: { config: Config; logger: Logger; now: number; out: (line: string) => void }): Promise<number> {
  const i = argv.indexOf("--from");
  const from = i >= 0 ? argv[i + 1] : undefined;
  if (!from) {
    deps.out("usage: identra import --from <sqlite path | mongodb uri> [--config <file>]");
    return 2;
  }
  const data = await readLegacy(from);
  const stores = await openStores(deps.config);
  try {
    const s = await importLegacy(data, stores.users, deps.now, deps.logger);
    deps.out(
      `import done: users created=${s.usersCreated} unchanged=${s.usersUnchanged} skipped=${s.usersSkipped}; ` +
        `identities created=${s.identitiesCreated} unchanged=${s.identitiesUnchanged} skipped=${s.identitiesSkipped}`,
    );
    return 0;
  } finally {
    await stores.close();
  }
}
