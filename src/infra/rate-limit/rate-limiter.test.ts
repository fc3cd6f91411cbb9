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

    it('peeks without taking: the answer consume would give, and nothing spent', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const limiter = make();
      try {
        const key = randomBytes(4).toString('hex');
        const options = { limit: 2, windowMs: 60_000 };
        for (let i = 0; i < 5; i++) expect((await limiter.peek(key, options)).allowed).toBe(true);
        expect((await limiter.consume(key, options)).allowed).toBe(true);
        expect((await limiter.peek(key, options)).allowed).toBe(true);
        expect((await limiter.consume(key, options)).allowed).toBe(true);
        const refused = await limiter.peek(key, options);
        expect(refused.allowed).toBe(false);
        if (!refused.allowed) expect(refused.retryAfterMs).toBeGreaterThan(59_000);
        expect((await limiter.peek(key, { ...options, limit: 3 })).allowed).toBe(true);
      } finally {
        await limiter.close();
      }
    });

    it('resets one key, leaving the others as they were', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const limiter = make();
      try {
        const key = randomBytes(4).toString('hex');
        const options = { limit: 1, windowMs: 60_000 };
        expect((await limiter.consume(key, options)).allowed).toBe(true);
        expect((await limiter.consume(`${key}-other`, options)).allowed).toBe(true);
        await limiter.reset(key);
        await limiter.reset(`${key}-never-used`);
        expect((await limiter.consume(key, options)).allowed).toBe(true);
        expect((await limiter.consume(key, options)).allowed).toBe(false);
        expect((await limiter.consume(`${key}-other`, options)).allowed).toBe(false);
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

describe('MemoryRateLimiter housekeeping', () => {
  it('sweeps each key by its own window: busy one-second budgets do not wipe a 15-minute one', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const login = { limit: 2, windowMs: 15 * 60_000 };
    await limiter.consume('login', login);
    await limiter.consume('login', login);
    now += 5_000;
    // Enough short-window traffic to trigger several sweeps.
    for (let i = 0; i < 3000; i++) await limiter.consume(`events:${i % 7}`, { limit: 1_000_000, windowMs: 1_000 });
    expect((await limiter.consume('login', login)).allowed).toBe(false);
  });
});

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

describe('RedisRateLimiter reset under concurrency', () => {
  it('a reset racing with consumes leaves a count that some order of them explains', async (ctx) => {
    if (!testServers.redisUrl) ctx.skip('REDIS_URL is not set');
    const prefix = `postura:test:${randomBytes(4).toString('hex')}:`;
    const a = new RedisRateLimiter(testServers.redisUrl!, prefix);
    const b = new RedisRateLimiter(testServers.redisUrl!, prefix);
    const options = { limit: 100, windowMs: 60_000 };
    try {
      for (let i = 0; i < 10; i++) await a.consume('k', options);
      const [, decisions] = await Promise.all([
        b.reset('k'),
        Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume('k', options))),
      ]);
      expect(decisions.every((d) => d.allowed)).toBe(true);
      // Only what ran after the reset is left (0 to 20 units), never the 10 from before it.
      let free = 0;
      while ((await a.consume('k', options)).allowed) free++;
      expect(100 - free).toBeLessThanOrEqual(20);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
