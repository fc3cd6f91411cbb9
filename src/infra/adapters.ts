import type { Config } from '../config/config.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { migrate } from './db/migrator.ts';
import { MemoryRateLimiter } from './rate-limit/memory-rate-limiter.ts';
import type { RateLimiter } from './rate-limit/rate-limiter.ts';
import { RedisRateLimiter } from './rate-limit/redis-rate-limiter.ts';

export interface Adapters {
  database: DatabaseHandle;
  rateLimiter: RateLimiter;
  close(): Promise<void>;
}

/** Opens the embedded or server adapters the config names, with the schema migrated. */
export async function openAdapters(config: Config): Promise<Adapters> {
  const database = await openDatabase(config.database);
  try {
    await migrate(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  const rateLimiter = config.redis.driver === 'redis' ? new RedisRateLimiter(config.redis.url) : new MemoryRateLimiter();
  return {
    database,
    rateLimiter,
    async close() {
      await rateLimiter.close();
      await database.close();
    },
  };
}
