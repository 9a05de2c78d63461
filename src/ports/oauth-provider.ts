export interface OAuthEmail {
  email: string;
  verified: boolean;
  primary: boolean;
}

export interface OAuthProfile {
  /** Provider's stable numeric/string id. */
  id: string;
  login: string;
  avatarUrl: string;
  /** Address from the public profile (may be null); never trusted for merging. */
  publicEmail: string | null;
  emails: OAuthEmail[];
}

/**
 * An OAuth provider (GitHub). exchangeCode throws OAUTH_EXCHANGE_FAILED when the provider rejects
 * the code; fetchProfile throws OAUTH_PROFILE_FAILED when it rejects the token; both throw
 * DEPENDENCY_UNAVAILABLE when it cannot be reached or answers 5xx/too slowly.
 */
export interface OAuthProvider {
  readonly name: string;
  /** Whether client id and secret are set; reason when not. */
  status(): { enabled: boolean; reason?: "missing_client_id" | "missing_client_secret" };
  authorizeUrl(state: string, redirectUrl: string): string;
  exchangeCode(code: string, redirectUrl: string | null): Promise<string>;
  fetchProfile(accessToken: string): Promise<OAuthProfile>;
}
