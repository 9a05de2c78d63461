// Ceiling probe (one Bun worker per core): Argon2id with @node-rs/argon2 — the server's hasher — at
// the given parameters, synchronously (exactly one core per worker), for a fixed time.
import { hashSync, verifySync } from "@node-rs/argon2";

declare const self: Worker;
self.onmessage = (e: MessageEvent<{ mode: "hash" | "verify"; phc: string; password: string; ms: number; params: { memoryCost: number; timeCost: number; parallelism: number } }>) => {
  const { mode, phc, password, ms, params } = e.data;
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (mode === "verify") verifySync(phc, password);
    else hashSync(password, { algorithm: 2, ...params });
    n++;
  }
  postMessage(n);
};
