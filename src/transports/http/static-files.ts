// Optional single-page app from `http.static_dir`: existing files as they are, `index.html` for any
// other GET path outside `/api` (client-side routing). Never escapes the directory.
import { stat } from "node:fs/promises";
import { resolve, sep } from "node:path";

export type StaticHandler = (pathname: string) => Promise<Response | null>;

const isFile = async (p: string): Promise<boolean> => {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
};

export const createStaticHandler = (dir: string): StaticHandler => {
  const root = resolve(dir);
  const index = resolve(root, "index.html");
  return async (pathname) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (decoded.includes("\0")) return null;
    const target = resolve(root, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
    if (target !== root && !target.startsWith(root + sep)) return null;
    if (target !== root && (await isFile(target))) return new Response(Bun.file(target));
    if (await isFile(index)) {
      return new Response(Bun.file(index), { headers: { "cache-control": "no-cache" } });
    }
    return null;
  };
};
