// The ephemeral-store contract on a real three-node Redis Cluster (several redis.urls → ioredis Cluster).
import { afterAll, beforeAll } from "bun:test";
import { createRedisEphemeralStore } from "../../src/adapters/redis/index.ts";
import { startRedisCluster, type RedisClusterHandle } from "../support/redis-cluster.ts";
import { runEphemeralStoreContract } from "./ephemeral-store.contract.ts";

let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(() => cluster?.stop());

let n = 0;
runEphemeralStoreContract("redis cluster", async () => {
  const store = createRedisEphemeralStore({ urls: cluster.urls, keyPrefix: `c${++n}:` });
  return { store, advance: (ms) => Bun.sleep(ms), close: () => store.close() };
});
