export { createRedisClient, mapRedisError, retryDelay } from "./client.ts";
export type { RedisConnectionOptions } from "./client.ts";
export { createRedisEphemeralStore } from "./ephemeral-store.ts";
export type { RedisEphemeralStore, RedisEphemeralStoreOptions } from "./ephemeral-store.ts";
