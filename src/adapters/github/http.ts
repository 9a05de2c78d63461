// One bounded HTTP round trip to GitHub: the whole exchange (headers and body) is bounded by
// timeoutMs; network errors, timeouts and 5xx/429 become DEPENDENCY_UNAVAILABLE. Callers decide
// what a 4xx means. Error causes describe the failure without bodies, tokens or secrets.
import { AppError } from "../../domain/errors.ts";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export const GITHUB_UNAVAILABLE_MESSAGE = "github is unavailable";

/** Largest body read from GitHub; its answers here are a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface GitHubResponse {
  status: number;
  headers: Headers;
  body: string;
}

export const githubUnavailable = (cause: unknown): AppError =>
  new AppError("DEPENDENCY_UNAVAILABLE", GITHUB_UNAVAILABLE_MESSAGE, { cause });

const readBody = async (res: Response): Promise<string> => {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new Error(`response body too large (${declared} bytes)`);
  const text = await res.text();
  if (text.length > MAX_BODY_BYTES) throw new Error("response body too large");
  return text;
};

export const githubRequest = async (
  fetchFn: FetchLike,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  what: string,
): Promise<GitHubResponse> => {
  const signal = AbortSignal.timeout(timeoutMs);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Belt and braces: a fetch implementation that ignores the signal still cannot hang us.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs + 50);
  });
  try {
    const exchange = (async () => {
      const res = await fetchFn(url, { ...init, signal, redirect: "error" });
      return { status: res.status, headers: res.headers, body: await readBody(res) };
    })();
    exchange.catch(() => {}); // the deadline may win; the loser must not surface as unhandled
    const res = await Promise.race([exchange, deadline]);
    if (res.status >= 500 || res.status === 429) {
      throw githubUnavailable(new Error(`${what}: github answered ${res.status}`));
    }
    return res;
  } catch (e) {
    if (e instanceof AppError) throw e;
    const timedOut = signal.aborted;
    throw githubUnavailable(
      new Error(timedOut ? `${what}: no answer within ${timeoutMs} ms` : `${what}: request failed`, { cause: e }),
    );
  } finally {
    clearTimeout(timer);
  }
};

export const parseJson = (body: string): unknown => {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
};

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
