import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config, type DeepPartial } from '../../src/config/config.ts';
import { openDatabase, type DatabaseHandle } from '../../src/infra/db/database.ts';
import { migrate } from '../../src/infra/db/migrator.ts';
import { MemoryRateLimiter } from '../../src/infra/rate-limit/memory-rate-limiter.ts';
import type { RateLimiter } from '../../src/infra/rate-limit/rate-limiter.ts';
import { RedisRateLimiter } from '../../src/infra/rate-limit/redis-rate-limiter.ts';

/**
 * The servers a test run may use. Only this file reads the environment: CI sets these to run the same suites
 * against real PostgreSQL and Redis; unset, everything is embedded.
 */
export const testServers = {
  databaseUrl: process.env.DATABASE_URL || null,
  redisUrl: process.env.REDIS_URL || null,
};

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** A fresh, isolated database: in-memory PGlite, or its own schema on the PostgreSQL server. */
export async function openTestDatabase(): Promise<{ database: DatabaseHandle; config: Config['database']; drop(): Promise<void> }> {
  if (!testServers.databaseUrl) {
    const config = { driver: 'pglite', dataDir: null } as const;
    const database = await openDatabase(config);
    return { database, config, drop: () => database.close() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const config = { driver: 'postgres', url: testServers.databaseUrl, schema, poolSize: 5 } as const;
  const database = await openDatabase(config);
  return {
    database,
    config,
    async drop() {
      await database.close();
      const client = new pg.Client({ connectionString: testServers.databaseUrl! });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

export function openTestRateLimiter(): RateLimiter {
  return testServers.redisUrl
    ? new RedisRateLimiter(testServers.redisUrl, `postura:test:${randomBytes(6).toString('hex')}:`)
    : new MemoryRateLimiter();
}

export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET }, overrides);
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  database: DatabaseHandle;
  close(): Promise<void>;
}

export async function createTestApp(overrides: DeepPartial<Config> = {}): Promise<TestApp> {
  const db = await openTestDatabase();
  await migrate(db.database);
  const config = testConfig({ database: db.config, ...overrides });
  const rateLimiter = openTestRateLimiter();
  const app = await buildApp({ config, jwtSecret: TEST_JWT_SECRET, database: db.database, rateLimiter });
  await app.ready();
  return {
    app,
    config,
    database: db.database,
    async close() {
      await app.close();
      await rateLimiter.close();
      await db.drop();
    },
  };
}
