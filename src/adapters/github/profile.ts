// Shape checks for GitHub's `/user` and `/user/emails` answers. Anything unexpected → null, which the
// provider turns into OAUTH_PROFILE_FAILED.
import type { OAuthEmail } from "../../ports/oauth-provider.ts";
import { isRecord } from "./http.ts";

export interface GitHubUser {
  id: string;
  login: string;
  avatarUrl: string;
  publicEmail: string | null;
}

export const parseGitHubUser = (json: unknown): GitHubUser | null => {
  if (!isRecord(json)) return null;
  const { id, login, avatar_url: avatarUrl, email } = json;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return null;
  if (typeof login !== "string" || login.length === 0) return null;
  if (typeof avatarUrl !== "string") return null;
  if (email !== null && email !== undefined && typeof email !== "string") return null;
  return { id: String(id), login, avatarUrl, publicEmail: typeof email === "string" && email !== "" ? email : null };
};

export const parseGitHubEmails = (json: unknown): OAuthEmail[] | null => {
  if (!Array.isArray(json)) return null;
  const emails: OAuthEmail[] = [];
  for (const entry of json) {
    if (!isRecord(entry)) return null;
    const { email, verified, primary } = entry;
    if (typeof email !== "string" || typeof verified !== "boolean" || typeof primary !== "boolean") return null;
    emails.push({ email, verified, primary });
  }
  return emails;
};
