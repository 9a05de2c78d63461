export type TokenType = "access" | "refresh";

/** Claims Identra puts in its JWTs (contract §4); `fid` names the refresh family. */
export interface TokenClaims {
  iss: string;
  sub: string;
  uid: string;
  typ: TokenType;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  aud?: string;
  fid?: string;
}
