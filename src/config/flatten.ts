export type Leaf = string | number | boolean | string[];
export type Tree = { [key: string]: Leaf | Tree };

/** {a: {b_c: 1}} → Map {"a.b_c" → 1}. */
export function flatten(tree: Tree, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) flatten(value as Tree, path, out);
    else out.set(path, value);
  }
  return out;
}

/** "auth.email_code.ttl" → "AUTH_EMAIL_CODE_TTL". */
export const envName = (key: string): string => key.replaceAll(".", "_").toUpperCase();
