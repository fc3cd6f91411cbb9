import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { openDatabase, type DatabaseHandle } from '../infra/db/database.ts';
import { migrate } from '../infra/db/migrator.ts';
import { RedisPubSub } from '../infra/pubsub/redis-pubsub.ts';
import { RedisRateLimiter } from '../infra/rate-limit/redis-rate-limiter.ts';
import { newUser } from '../../test/helpers/factories.ts';
import { openTestDatabase, openTestStudioAdapters, testConfig, testServers, TEST_JWT_SECRET } from '../../test/helpers/test-app.ts';
import { isType, postEvents, SocketProbe, startSession } from './live.test-helper.ts';

/**
 * Two API "processes" (two buildApp instances, each with its own Redis connections) on one database and one
 * Redis: what a load-balanced deployment looks like. On PostgreSQL each has its own pool; PGlite is one
 * in-process database, so there they share the handle.
 */
const skip = testServers.redisUrl ? null : 'REDIS_URL is not set: scale-out tests need a real Redis';

let apps: FastifyInstance[] = [];
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  if (skip) return;
  const db = await openTestDatabase();
  closers.push(() => db.drop());
  await migrate(db.database);
  const prefix = `postura:test:${randomBytes(6).toString('hex')}:`;
  for (let i = 0; i < 2; i++) {
    let database: DatabaseHandle = db.database;
    if (i > 0 && db.config.driver === 'postgres') {
      database = await openDatabase(db.config);
      closers.unshift(() => database.close());
    }
    const rateLimiter = new RedisRateLimiter(testServers.redisUrl!, prefix);
    const pubsub = new RedisPubSub(testServers.redisUrl!, prefix);
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
afterAll(async () => {
  for (const close of closers) await close();
  apps = [];
});

describe('two API processes on one Redis', () => {
  it('share the per-session rate limit', async (ctx) => {
    if (skip) ctx.skip(skip);
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const sessionId = await startSession(a);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => postEvents(i % 2 ? a : b, sessionId, { angle: 1 })));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(10);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(6);
    const batch = await postEvents(b, sessionId, [{ angle: 1 }, { angle: 2 }]);
    expect(batch.statusCode).toBe(429);
    expect(batch.headers['retry-after']).toBe('1');
  });

  it('fan an event posted to one process out to a socket on the other, and only to its owner', async (ctx) => {
    if (skip) ctx.skip(skip);
    const [a, b] = apps as [FastifyInstance, FastifyInstance];
    const url = await b.listen({ host: '127.0.0.1', port: 0 });
    const [owner, other] = [await newUser(a), await newUser(a)];
    const [ownerSocket, otherSocket] = [SocketProbe.connect(url, owner.token), SocketProbe.connect(url, other.token)];
    try {
      await Promise.all([ownerSocket.next(isType('history')), otherSocket.next(isType('history'))]);
      const sessionId = await startSession(a, owner.token);
      expect((await postEvents(a, sessionId, [{ angle: 3 }, { angle: 4 }])).statusCode).toBe(201);
      await ownerSocket.next((m) => isType('posture')(m) && (m.event as { angle: number }).angle === 4);
      const pushed = ownerSocket.messages.filter(isType('posture')).map((m) => m.event as { angle: number; session_id: string });
      expect(pushed.map((e) => [e.session_id, e.angle])).toEqual([[sessionId, 3], [sessionId, 4]]);
      // A marker event for the other user, through the same channel order, proves nothing else reached it.
      const otherSession = await startSession(a, other.token);
      await postEvents(a, otherSession, { angle: 9 });
      await otherSocket.next(isType('posture'));
      expect(otherSocket.messages.filter(isType('posture'))).toHaveLength(1);
    } finally {
      ownerSocket.close();
      otherSocket.close();
    }
  });
});
