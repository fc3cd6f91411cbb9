import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testServers } from '../../../test/helpers/test-app.ts';
import { MemoryRateLimiter } from './memory-rate-limiter.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

function contract(name: string, make: () => RateLimiter, skipReason: string | null) {
  describe(name, () => {
    it('allows up to the limit in a window, then refuses with a retry delay', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const limiter = make();
      try {
        const key = randomBytes(4).toString('hex');
        for (let i = 0; i < 3; i++) expect((await limiter.consume(key, { limit: 3, windowMs: 60_000 })).allowed).toBe(true);
        const refused = await limiter.consume(key, { limit: 3, windowMs: 60_000 });
        expect(refused.allowed).toBe(false);
        if (!refused.allowed) expect(refused.retryAfterMs).toBeGreaterThan(59_000);
        expect((await limiter.consume(`${key}-other`, { limit: 3, windowMs: 60_000 })).allowed).toBe(true);
      } finally {
        await limiter.close();
      }
    });

    it('counts a batch as its cost and a refused batch consumes nothing', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const limiter = make();
      try {
        const key = randomBytes(4).toString('hex');
        expect((await limiter.consume(key, { limit: 10, windowMs: 60_000, cost: 8 })).allowed).toBe(true);
        expect((await limiter.consume(key, { limit: 10, windowMs: 60_000, cost: 3 })).allowed).toBe(false);
        expect((await limiter.consume(key, { limit: 10, windowMs: 60_000, cost: 2 })).allowed).toBe(true);
        expect((await limiter.consume(key, { limit: 10, windowMs: 60_000, cost: 1 })).allowed).toBe(false);
      } finally {
        await limiter.close();
      }
    });

    it('frees budget as the window slides', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const limiter = make();
      try {
        const key = randomBytes(4).toString('hex');
        expect((await limiter.consume(key, { limit: 1, windowMs: 150 })).allowed).toBe(true);
        expect((await limiter.consume(key, { limit: 1, windowMs: 150 })).allowed).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect((await limiter.consume(key, { limit: 1, windowMs: 150 })).allowed).toBe(true);
      } finally {
        await limiter.close();
      }
    });
  });
}

contract('MemoryRateLimiter', () => new MemoryRateLimiter(), null);
contract(
  'RedisRateLimiter',
  () => new RedisRateLimiter(testServers.redisUrl!, `postura:test:${randomBytes(4).toString('hex')}:`),
  testServers.redisUrl ? null : 'REDIS_URL is not set: Redis limiter tests run in CI against a real server',
);

describe('RedisRateLimiter across processes', () => {
  it('two limiters on one Redis share one budget', async (ctx) => {
    if (!testServers.redisUrl) ctx.skip('REDIS_URL is not set');
    const prefix = `postura:test:${randomBytes(4).toString('hex')}:`;
    const a = new RedisRateLimiter(testServers.redisUrl!, prefix);
    const b = new RedisRateLimiter(testServers.redisUrl!, prefix);
    try {
      const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).consume('shared', { limit: 10, windowMs: 60_000 })));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
