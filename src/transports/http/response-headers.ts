// Headers every REST response carries: security headers, the request id, CORS, and `no-store`
// unless the route chose its own caching (JWKS, docs assets) or it is a static SPA file.

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const SECURITY_HEADER_LIST = Object.entries(SECURITY_HEADERS);

export interface DecorateOptions {
  requestId: string;
  cors: Record<string, string>;
  noStore: boolean;
}

/** CORS headers onto a response's own (`Vary` is added to, never replaced). */
export const applyCors = (headers: Headers, cors: Record<string, string>): void => {
  for (const k in cors) {
    const v = cors[k]!;
    if (k === "vary") headers.append("vary", v);
    else headers.set(k, v);
  }
};

export const decorateResponse = (res: Response, opts: DecorateOptions): Response => {
  let out = res;
  try {
    out.headers.set("x-request-id", opts.requestId);
  } catch {
    // Immutable headers (e.g. a Response built by a library): copy it.
    out = new Response(res.body, res);
    out.headers.set("x-request-id", opts.requestId);
  }
  for (const [k, v] of SECURITY_HEADER_LIST) out.headers.set(k, v);
  applyCors(out.headers, opts.cors);
  if (opts.noStore && !out.headers.has("cache-control")) out.headers.set("cache-control", "no-store");
  return out;
};
