import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.ts';
import { queueOptions } from '../../src/infra/adapters.ts';
import { openObjectStore } from '../../src/infra/object-store/open-object-store.ts';
import type { ObjectStore } from '../../src/infra/object-store/object-store.ts';
import type { UrlSigner } from '../../src/infra/object-store/url-signer.ts';
import type { JobQueue } from '../../src/infra/queue/job-queue.ts';
import { openPgBossQueue } from '../../src/infra/queue/pg-boss-queue.ts';
import type { PoseEstimator } from '../../src/pose/pose-estimator.ts';
import { loadConfig, type Config, type DeepPartial } from '../../src/config/config.ts';
import { openDatabase, type DatabaseHandle } from '../../src/infra/db/database.ts';
import { migrate } from '../../src/infra/db/migrator.ts';
import { MemoryPubSub } from '../../src/infra/pubsub/memory-pubsub.ts';
import type { PubSub } from '../../src/infra/pubsub/pubsub.ts';
import { RedisPubSub } from '../../src/infra/pubsub/redis-pubsub.ts';
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

/** In-process fan-out, or Redis pub/sub under a prefix of its own (pass one prefix to make apps share channels). */
export function openTestPubSub(prefix = `postura:test:${randomBytes(6).toString('hex')}:`): PubSub {
  return testServers.redisUrl ? new RedisPubSub(testServers.redisUrl, prefix) : new MemoryPubSub();
}

export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET }, overrides);
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  /** The database settings (its schema, on PostgreSQL), for other processes that must share it. */
  databaseConfig: Config['database'];
  database: DatabaseHandle;
  store: ObjectStore;
  queue: JobQueue;
  close(): Promise<void>;
}

/** Test job settings: quick polling and lease checks so retries and recovery happen within a test's patience. */
export const FAST_JOBS = { pollIntervalSeconds: 0.5, superviseIntervalSeconds: 1, retryDelaySeconds: 1 } as const;

/** A disk object store in a temp folder and a pg-boss queue on the test database. */
export async function openTestStudioAdapters(database: DatabaseHandle, config: Config, options: { storageRoot?: string } = {}): Promise<{
  store: ObjectStore; signer: UrlSigner | null; queue: JobQueue; close(): Promise<void>;
}> {
  const root = options.storageRoot ?? await mkdtemp(path.join(os.tmpdir(), 'postura-objects-'));
  const { store, signer } = config.storage.driver === 'fs'
    ? openObjectStore({ ...config, storage: { driver: 'fs', root } }, TEST_JWT_SECRET)
    : openObjectStore(config, TEST_JWT_SECRET);
  const queue = await openPgBossQueue(database, queueOptions(config), () => {});
  return {
    store, signer, queue,
    async close() {
      await queue.stop();
      if (!options.storageRoot) await rm(root, { recursive: true, force: true });
    },
  };
}

export async function createTestApp(
  overrides: DeepPartial<Config> = {},
  options: { estimator?: PoseEstimator; storageRoot?: string; logDestination?: DestinationStream } = {},
): Promise<TestApp> {
  const db = await openTestDatabase();
  await migrate(db.database);
  const config = testConfig({ database: db.config, jobs: FAST_JOBS, ...overrides });
  const rateLimiter = openTestRateLimiter();
  const pubsub = openTestPubSub();
  const studio = await openTestStudioAdapters(db.database, config, { storageRoot: options.storageRoot });
  const app = await buildApp({
    config, jwtSecret: TEST_JWT_SECRET, database: db.database, rateLimiter, pubsub, ...studio, estimator: options.estimator,
    logDestination: options.logDestination,
  });
  await app.ready();
  return {
    app,
    config,
    databaseConfig: db.config,
    database: db.database,
    store: studio.store,
    queue: studio.queue,
    async close() {
      await app.close();
      await studio.close();
      await pubsub.close();
      await rateLimiter.close();
      await db.drop();
    },
  };
}
