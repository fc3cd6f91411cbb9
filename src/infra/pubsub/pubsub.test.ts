import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testServers } from '../../../test/helpers/test-app.ts';
import { MemoryPubSub } from './memory-pubsub.ts';
import type { PubSub } from './pubsub.ts';
import { RedisPubSub } from './redis-pubsub.ts';

/** Resolves with the first `count` messages a handler gets, or fails after a timeout. */
function collect(count: number, timeoutMs = 3_000) {
  const received: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    setTimeout(() => reject(new Error(`got ${received.length} of ${count} messages`)), timeoutMs).unref();
  });
  return {
    received,
    handler: (message: string) => {
      received.push(message);
      if (received.length === count) done();
    },
    finished,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

function contract(name: string, make: (prefix: string) => PubSub, skipReason: string | null) {
  describe(name, () => {
    it('delivers to every subscriber of the channel, in order, and to no other channel', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const pubsub = make(`postura:test:${randomBytes(4).toString('hex')}:`);
      try {
        const [a, b, other] = [collect(3), collect(3), collect(1)];
        await pubsub.subscribe('user:1', a.handler);
        await pubsub.subscribe('user:1', b.handler);
        await pubsub.subscribe('user:2', other.handler);
        for (const m of ['one', 'two', 'three']) await pubsub.publish('user:1', m);
        await Promise.all([a.finished, b.finished]);
        await settle();
        expect(a.received).toEqual(['one', 'two', 'three']);
        expect(b.received).toEqual(['one', 'two', 'three']);
        expect(other.received).toEqual([]);
      } finally {
        await pubsub.close();
      }
    });

    it('stops delivering to a handler once it unsubscribed, and keeps the others', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const pubsub = make(`postura:test:${randomBytes(4).toString('hex')}:`);
      try {
        const [gone, kept] = [collect(1), collect(2)];
        const unsubscribe = await pubsub.subscribe('c', gone.handler);
        await pubsub.subscribe('c', kept.handler);
        await pubsub.publish('c', 'first');
        await gone.finished;
        await unsubscribe();
        await pubsub.publish('c', 'second');
        await kept.finished;
        await settle();
        expect(gone.received).toEqual(['first']);
        expect(kept.received).toEqual(['first', 'second']);
      } finally {
        await pubsub.close();
      }
    });

    it('a throwing handler does not keep the message from the others', async (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      const pubsub = make(`postura:test:${randomBytes(4).toString('hex')}:`);
      try {
        const ok = collect(1);
        await pubsub.subscribe('c', () => {
          throw new Error('boom');
        });
        await pubsub.subscribe('c', ok.handler);
        await pubsub.publish('c', 'x');
        await ok.finished;
      } finally {
        await pubsub.close();
      }
    });
  });
}

contract('MemoryPubSub', () => new MemoryPubSub(), null);
contract(
  'RedisPubSub',
  (prefix) => new RedisPubSub(testServers.redisUrl!, prefix),
  testServers.redisUrl ? null : 'REDIS_URL is not set: Redis pub/sub tests run in CI against a real server',
);

describe('RedisPubSub across processes', () => {
  it('a message published by one instance reaches the subscribers of another, and prefixes keep apps apart', async (ctx) => {
    if (!testServers.redisUrl) ctx.skip('REDIS_URL is not set');
    const prefix = `postura:test:${randomBytes(4).toString('hex')}:`;
    const [publisher, subscriber, stranger] = [
      new RedisPubSub(testServers.redisUrl!, prefix),
      new RedisPubSub(testServers.redisUrl!, prefix),
      new RedisPubSub(testServers.redisUrl!, `${prefix}other:`),
    ];
    try {
      const [got, foreign] = [collect(1), collect(1)];
      await subscriber.subscribe('user:9', got.handler);
      await stranger.subscribe('user:9', foreign.handler);
      await publisher.publish('user:9', 'hello');
      await got.finished;
      await settle();
      expect(got.received).toEqual(['hello']);
      expect(foreign.received).toEqual([]);
    } finally {
      await Promise.all([publisher, subscriber, stranger].map((p) => p.close()));
    }
  });
});
