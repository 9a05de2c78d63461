// Pure IP / CIDR helpers for resolving the client address behind trusted proxies (contract §5).

export interface ParsedIp {
  version: 4 | 6;
  bytes: Uint8Array;
}

const parseIpv4 = (s: string): Uint8Array | null => {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? "";
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
};

const parseIpv6 = (input: string): Uint8Array | null => {
  let s = input;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const groups: number[] = [];
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? "");
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!head || !rest) return null;
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    groups.push(...head);
  } else {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...rest);
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
};

const isV4Mapped = (b: Uint8Array): boolean =>
  b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4. Brackets allowed. */
export const parseIp = (raw: string): ParsedIp | null => {
  const s = raw.trim().replace(/^\[(.*)\]$/, "$1");
  if (s.includes(":")) {
    const b = parseIpv6(s);
    if (!b) return null;
    return isV4Mapped(b) ? { version: 4, bytes: b.slice(12) } : { version: 6, bytes: b };
  }
  const b = parseIpv4(s);
  return b ? { version: 4, bytes: b } : null;
};

/** Canonical text of an address (IPv4 dotted; IPv6 as given, lower-cased, mapped forms unwrapped). */
export const normalizeIp = (raw: string): string | null => {
  const ip = parseIp(raw);
  if (!ip) return null;
  if (ip.version === 4) return Array.from(ip.bytes).join(".");
  return raw.trim().replace(/^\[(.*)\]$/, "$1").toLowerCase();
};

export interface Cidr {
  version: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a single host). Null when malformed. */
export const parseCidr = (raw: string): Cidr | null => {
  const [addr = "", prefixText, extra] = raw.trim().split("/");
  if (extra !== undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = ip.version === 4 ? 32 : 128;
  // An IPv4-mapped IPv6 prefix (::ffff:0:0/96 + n) is the IPv4 prefix n.
  const mappedShift = ip.version === 4 && addr.includes(":") ? 96 : 0;
  if (prefixText === undefined) return { ...ip, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText) - mappedShift;
  if (prefix < 0 || prefix > max) return null;
  return { ...ip, prefix };
};

export const cidrContains = (cidr: Cidr, ip: ParsedIp): boolean => {
  if (cidr.version !== ip.version) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((cidr.bytes[i] ?? 0) & mask) !== ((ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
};

/** A predicate over addresses; throws on a malformed entry, naming it. */
export const createIpMatcher = (cidrs: readonly string[]): ((ip: string) => boolean) => {
  const parsed = cidrs.map((c) => {
    const p = parseCidr(c);
    if (!p) throw new Error(`http.trusted_proxies: invalid CIDR "${c}"`);
    return p;
  });
  return (raw) => {
    const ip = parseIp(raw);
    return ip !== null && parsed.some((c) => cidrContains(c, ip));
  };
};

export interface ClientIpInput {
  peer: string;
  forwardedFor: string | null;
  realIp: string | null;
  isTrusted: (ip: string) => boolean;
}

/**
 * The socket peer, unless it is a trusted proxy: then the right-most untrusted `X-Forwarded-For` hop
 * (or the left-most when every hop is trusted), else a valid `X-Real-IP`, else the peer.
 */
export const resolveClientIp = ({ peer, forwardedFor, realIp, isTrusted }: ClientIpInput): string => {
  const peerIp = normalizeIp(peer) ?? peer;
  if (!isTrusted(peerIp)) return peerIp;
  if (forwardedFor) {
    const hops = forwardedFor.split(",").map((h) => h.trim()).filter((h) => h !== "");
    let candidate = peerIp;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeIp(hops[i] ?? "");
      if (hop === null) return candidate;
      candidate = hop;
      if (!isTrusted(hop)) return hop;
    }
    return candidate;
  }
  if (realIp) {
    const real = normalizeIp(realIp);
    if (real !== null) return real;
  }
  return peerIp;
};
