import type { Config } from '../config/config.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { migrate } from './db/migrator.ts';
import { openObjectStore } from './object-store/open-object-store.ts';
import type { ObjectStore } from './object-store/object-store.ts';
import type { UrlSigner } from './object-store/url-signer.ts';
import type { JobQueue } from './queue/job-queue.ts';
import { openPgBossQueue } from './queue/pg-boss-queue.ts';
import { MemoryPubSub } from './pubsub/memory-pubsub.ts';
import type { PubSub } from './pubsub/pubsub.ts';
import { MemoryRateLimiter } from './rate-limit/memory-rate-limiter.ts';
import type { RateLimiter } from './rate-limit/rate-limiter.ts';

export interface Adapters {
  database: DatabaseHandle;
  rateLimiter: RateLimiter;
  pubsub: PubSub;
  store: ObjectStore;
  signer: UrlSigner | null;
  queue: JobQueue;
  close(): Promise<void>;
}

/** The Redis client is loaded only when Redis is configured: the embedded default never needs it. */
async function openRedisAdapters(url: string): Promise<{ rateLimiter: RateLimiter; pubsub: PubSub }> {
  const [{ RedisRateLimiter }, { RedisPubSub }] = await Promise.all([
    import('./rate-limit/redis-rate-limiter.ts'),
    import('./pubsub/redis-pubsub.ts'),
  ]);
  return { rateLimiter: new RedisRateLimiter(url), pubsub: new RedisPubSub(url) };
}

/** Opens the embedded or server adapters the config names, with the schema migrated. */
export async function openAdapters(config: Config, serverSecret: string): Promise<Adapters> {
  const database = await openMigratedDatabase(config);
  const { rateLimiter, pubsub } = config.redis.driver === 'redis'
    ? await openRedisAdapters(config.redis.url)
    : { rateLimiter: new MemoryRateLimiter(), pubsub: new MemoryPubSub() };
  const { store, signer } = openObjectStore(config, serverSecret);
  const queue = await openPgBossQueue(database, queueOptions(config), (error) => {
    process.emitWarning(`job queue: ${error.message}`);
  });
  return {
    database,
    rateLimiter,
    pubsub,
    store,
    signer,
    queue,
    async close() {
      await queue.stop();
      await pubsub.close();
      await rateLimiter.close();
      await database.close();
    },
  };
}

/** The database alone, migrated: for commands that need nothing else (create-admin, model-server). */
export async function openMigratedDatabase(config: Pick<Config, 'database'>): Promise<DatabaseHandle> {
  const database = await openDatabase(config.database);
  try {
    await migrate(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** pg-boss keeps its tables in a schema of its own, next to ours (per test schema when tests set one). */
export function queueOptions(config: Pick<Config, 'database' | 'jobs'>) {
  const schema = config.database.driver === 'postgres' && config.database.schema ? `${config.database.schema}_boss` : 'pgboss';
  return { schema, ...config.jobs };
}
