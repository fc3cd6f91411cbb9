import { describe, expect, it } from 'vitest';
import { MemoryPubSub } from '../infra/pubsub/memory-pubsub.ts';
import type { PostureEvent } from './live-session.ts';
import { toPostureEventBody } from './live.schemas.ts';
import { decodeFeed, encodeFeed, PostureFeed, type FeedEvent } from './posture-feed.ts';

const event = (id: number, metadata: Record<string, unknown> = {}): PostureEvent => ({
  id, sessionId: '0b7c6f5e-1d2a-4c3b-9e8f-7a6b5c4d3e2f', userId: 'u1', label: 'Good', score: 0.9, angle: 4.5, neckTilt: null,
  timestamp: new Date('2026-01-02T03:04:05.678Z'), metadata, createdAt: new Date('2026-01-02T03:04:05.999Z'),
  keypoints: { nose: { x: 1.5, y: 2, confidence: 0.9 } },
});

describe('posture feed messages', () => {
  it('carries each event as the socket message it becomes, line breaks and quotes in metadata included', () => {
    const events = [event(7, { note: 'two\nlines "quoted"', nested: { a: [1, 2] } }), event(8), event(9, { 'key with space': ' ' })];
    const decoded = decodeFeed(encodeFeed(events));
    expect(decoded.map((e) => e.id)).toEqual([7, 8, 9]);
    expect(decoded.map((e) => JSON.parse(e.message))).toEqual(events.map((e) => ({ type: 'posture', event: toPostureEventBody(e) })));
  });

  it('reads the JSON array that earlier versions publish, into the same socket messages', () => {
    const events = [event(1, { app: 'old' }), event(2)];
    expect(decodeFeed(JSON.stringify(events.map(toPostureEventBody)))).toEqual(decodeFeed(encodeFeed(events)));
  });

  it('reaches a subscriber of the user, not one of another user', async () => {
    const feed = new PostureFeed(new MemoryPubSub());
    const got: FeedEvent[][] = [];
    const other: FeedEvent[][] = [];
    const arrived = new Promise<void>((resolve) => {
      void feed.subscribe('u1', (events) => {
        got.push(events);
        resolve();
      });
    });
    await feed.subscribe('u2', (events) => other.push(events));
    await feed.publish('u1', [event(3), event(4)]);
    await arrived;
    expect(got).toEqual([decodeFeed(encodeFeed([event(3), event(4)]))]);
    expect(other).toEqual([]);
  });
});
