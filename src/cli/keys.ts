// `identra keys list | rotate [--now] | retire <kid>`: operator commands on the shared key store.
// Running servers see the change at their next key-ring refresh (auth.key_ring_refresh_interval).
import type { Config } from "../config/types.ts";
import type { KeyStore } from "../ports/key-store.ts";
import type { Clock } from "../ports/system.ts";
import { generateKeyPem, loadKeyMaterial } from "../services/key-material.ts";

/** JWKS responses are cacheable for an hour: a new key is published that long before it signs. */
export const JWKS_CACHE_MS = 3_600_000;

export async function runKeysCommand(args: string[], deps: { keys: KeyStore; clock: Clock; config: Config; out: (line: string) => void }): Promise<number> {
  const { keys, clock, out } = deps;
  const [sub, ...rest] = args;
  switch (sub) {
    case "list": {
      const all = await keys.list();
      out(["KID", "ALG", "STATE", "CREATED", "PROMOTE_AT"].join("\t"));
      for (const k of all) {
        const promote = k.promoteAt ? new Date(k.promoteAt).toISOString() : "-";
        out([k.kid, k.alg, k.state, new Date(k.createdAt).toISOString(), promote].join("\t"));
      }
      return 0;
    }
    case "rotate": {
      const now = rest.includes("--now");
      const alg = deps.config.auth.signingAlgorithm;
      const pem = await generateKeyPem(alg);
      const { kid } = await loadKeyMaterial(pem, alg);
      const at = clock.now();
      await keys.add({ kid, alg, privateKeyPem: pem, state: "PASSIVE", createdAt: at, promoteAt: now ? null : at + JWKS_CACHE_MS, activatedAt: null, retiredAt: null });
      if (now) {
        const previous = (await keys.list()).find((k) => k.state === "ACTIVE" && k.alg === alg);
        await keys.promote(kid, at);
        out(previous ? `${kid} is ACTIVE now; ${previous.kid} stays PASSIVE (published, still verifies) until retired` : `${kid} is ACTIVE now`);
      } else {
        out(`${kid} added as PASSIVE; it becomes ACTIVE at ${new Date(at + JWKS_CACHE_MS).toISOString()} (after the JWKS cache time)`);
      }
      return 0;
    }
    case "retire": {
      const kid = rest[0];
      if (!kid) {
        out("usage: identra keys retire <kid>");
        return 2;
      }
      const target = (await keys.list()).find((k) => k.kid === kid);
      if (!target) {
        out(`no key with kid ${kid}`);
        return 1;
      }
      if (target.state === "ACTIVE") {
        out(`${kid} is ACTIVE: rotate first (identra keys rotate --now), then retire it`);
        return 1;
      }
      await keys.setState(kid, "RETIRED", clock.now());
      out(`${kid} retired: tokens it signed no longer verify`);
      return 0;
    }
    default:
      out("usage: identra keys list | rotate [--now] | retire <kid>");
      return 2;
  }
}
