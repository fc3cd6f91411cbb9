import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { buildApp } from '../app.ts';
import { openDatabase, type DatabaseHandle } from '../infra/db/database.ts';
import { migrate } from '../infra/db/migrator.ts';
import { MemoryPubSub } from '../infra/pubsub/memory-pubsub.ts';
import { RedisPubSub } from '../infra/pubsub/redis-pubsub.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import {
  openTestDatabase, openTestPubSub, openTestRateLimiter, openTestStudioAdapters, testConfig, testServers, TEST_JWT_SECRET,
} from '../../test/helpers/test-app.ts';
import { DroppablePubSub } from '../infra/pubsub/droppable-pubsub.test-helper.ts';
import { REVOKED_CHANNEL, RevocationCache } from './revocation-cache.ts';
import { createRevocationsRepository, type RevocationsRepository } from './revocations.repository.ts';

/** The documented bound for a logout on one process to be refused on another (pub/sub delivery, with room to spare). */
const PROPAGATION_BOUND_MS = 2_000;

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe('RevocationCache', () => {
  let repository: RevocationsRepository;
  let lookups: MockInstance<RevocationsRepository['isRevoked']>;
  const inAnHour = () => new Date(Date.now() + 3_600_000);

  beforeAll(async () => {
    const db = await openTestDatabase();
    closers.unshift(() => db.drop());
    await migrate(db.database);
    repository = createRevocationsRepository(db.database.db);
    lookups = vi.spyOn(repository, 'isRevoked');
  });

  async function startedCache(pubsub: PubSub): Promise<RevocationCache> {
    const cache = new RevocationCache({ repository, pubsub, maxTokenLifetimeMs: 3_600_000, onError: () => {} });
    await cache.start();
    closers.unshift(() => cache.stop());
    return cache;
  }

  it('loads unexpired access revocations at start and answers from memory', async () => {
    const [revoked, expired, burnt] = [randomUUID(), randomUUID(), randomUUID()];
    await repository.revoke(revoked, 'access', inAnHour());
    await repository.revoke(expired, 'access', new Date(Date.now() - 1000));
    await repository.burnOnce(burnt, inAnHour());
    const listed = (await repository.listRevokedAccess(new Date())).map((row) => row.jti);
    expect(listed).toContain(revoked);
    expect(listed).not.toContain(expired);
    expect(listed).not.toContain(burnt);

    const cache = await startedCache(new MemoryPubSub());
    lookups.mockClear();
    expect(await cache.isRevoked(revoked)).toBe(true);
    expect(await cache.isRevoked(randomUUID())).toBe(false);
    expect(lookups).not.toHaveBeenCalled();
  });

  it('learns of another process\'s logout from the pub/sub', async () => {
    const pubsub = new MemoryPubSub();
    const cache = await startedCache(pubsub);
    const jti = randomUUID();
    await repository.revoke(jti, 'access', inAnHour());
    expect(await cache.isRevoked(jti)).toBe(false);
    await pubsub.publish(REVOKED_CHANNEL, jti);
    await vi.waitFor(async () => expect(await cache.isRevoked(jti)).toBe(true), { timeout: PROPAGATION_BOUND_MS });
  });

  it('asks the database while the subscription is down, and trusts memory again only after reloading', async () => {
    const pubsub = new DroppablePubSub();
    const cache = await startedCache(pubsub);
    pubsub.setConnected(false);
    const missed = randomUUID();
    await repository.revoke(missed, 'access', inAnHour());
    await pubsub.publish(REVOKED_CHANNEL, missed);

    lookups.mockClear();
    expect(await cache.isRevoked(missed)).toBe(true);
    expect(lookups).toHaveBeenCalledWith(missed);

    pubsub.setConnected(true);
    await vi.waitFor(() => expect(cache.isLive()).toBe(true));
    lookups.mockClear();
    expect(await cache.isRevoked(missed)).toBe(true);
    expect(lookups).not.toHaveBeenCalled();
  });

  it.skipIf(!testServers.redisUrl)('falls back to the database when the Redis subscriber connection drops', async () => {
    const pubsub = new RedisPubSub(testServers.redisUrl!, `postura:test:${randomBytes(6).toString('hex')}:`);
    closers.push(() => pubsub.close());
    const cache = await startedCache(pubsub);
    expect(cache.isLive()).toBe(true);
    // What a network cut does to the subscriber: the connection ends and ioredis reconnects by itself.
    (pubsub as unknown as { subscriber: { disconnect(reconnect: boolean): void } }).subscriber.disconnect(true);
    await vi.waitFor(() => expect(cache.isLive()).toBe(false));
    const missed = randomUUID();
    await repository.revoke(missed, 'access', inAnHour());
    expect(await cache.isRevoked(missed)).toBe(true);

    await vi.waitFor(() => expect(cache.isLive()).toBe(true), { timeout: 5_000 });
    lookups.mockClear();
    expect(await cache.isRevoked(missed)).toBe(true);
    expect(lookups).not.toHaveBeenCalled();
  });
});

/**
 * Two API "processes" on one database and one pub/sub: two buildApp instances sharing a MemoryPubSub and the PGlite
 * handle when embedded; each with its own Redis connections and PostgreSQL pool when REDIS_URL / DATABASE_URL are set.
 */
describe('logout across processes', () => {
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    const db = await openTestDatabase();
    closers.push(() => db.drop());
    await migrate(db.database);
    const prefix = `postura:test:${randomBytes(6).toString('hex')}:`;
    const shared = testServers.redisUrl ? null : new MemoryPubSub();
    for (let i = 0; i < 2; i++) {
      let database: DatabaseHandle = db.database;
      if (i > 0 && db.config.driver === 'postgres') {
        database = await openDatabase(db.config);
        closers.unshift(() => database.close());
      }
      const rateLimiter = openTestRateLimiter();
      const pubsub = shared ?? openTestPubSub(prefix);
      const config = testConfig({ database: db.config });
      const studio = await openTestStudioAdapters(database, config);
      const app = await buildApp({ config, jwtSecret: TEST_JWT_SECRET, database, rateLimiter, pubsub, ...studio });
      closers.unshift(async () => {
        await app.close();
        await studio.close();
        await pubsub.close();
        await rateLimiter.close();
      });
      apps.push(app);
    }
  });

  it(`refuses on B a token logged out on A within ${PROPAGATION_BOUND_MS} ms`, async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const user = await newUser(a);
    const me = () => b.inject({ url: '/api/auth/me/', headers: bearer(user.token) });
    expect((await me()).statusCode).toBe(200);

    expect((await a.inject({ method: 'POST', url: '/auth/logout', headers: bearer(user.token) })).statusCode).toBe(200);
    const loggedOutAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - loggedOutAt < PROPAGATION_BOUND_MS) {
      // Injected requests answered from memory never wait on I/O: let the socket carrying the message be read.
      await new Promise((resolve) => setTimeout(resolve, 5));
      status = (await me()).statusCode;
    }
    expect(status).toBe(401);
    expect((await a.inject({ url: '/api/auth/me/', headers: bearer(user.token) })).statusCode).toBe(401);
  });
});
