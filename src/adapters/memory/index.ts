export { createMemoryEphemeralStore, normaliseTtl } from "./ephemeral-store.ts";
export type { MemoryEphemeralStore, MemoryEphemeralStoreOptions } from "./ephemeral-store.ts";
export { createMemoryKeyStore } from "./key-store.ts";
export { createMemoryRefreshFamilyStore } from "./refresh-family-store.ts";
export { createMemoryUserStore } from "./user-store.ts";
