import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/helpers/test-app.ts';
import type { DatabaseHandle } from '../infra/db/database.ts';
import { migrate } from '../infra/db/migrator.ts';
import { MemoryPubSub } from '../infra/pubsub/memory-pubsub.ts';
import { MemoryRateLimiter } from '../infra/rate-limit/memory-rate-limiter.ts';
import { isAppError } from '../errors/app-error.ts';
import { PostureEventIngest } from './event-ingest.ts';
import type { ValidatedEvent } from './live-session.ts';
import { createLiveSessionsRepository } from './live-sessions.repository.ts';
import { PostureFeed } from './posture-feed.ts';

const event = (): ValidatedEvent => ({ label: 'Good', score: null, angle: null, neckTilt: null, timestamp: null, metadata: {}, keypoints: null });
const events = (n: number) => Array.from({ length: n }, event);

/** The status a store answers: 201-like 'stored n' or the refusal's code. */
async function outcome(stored: Promise<number>): Promise<string> {
  try {
    return `stored ${await stored}`;
  } catch (error) {
    if (isAppError(error)) return error.code;
    throw error;
  }
}

describe('daily event ceiling across processes (two ingests on one database)', () => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase());
    await migrate(database);
  });
  afterAll(() => drop());

  /** One API process's ingest: its own caches and known counts, the shared database. */
  const ingest = () => new PostureEventIngest({
    sessions: createLiveSessionsRepository(database.db), limiter: new MemoryRateLimiter(), feed: new PostureFeed(new MemoryPubSub()),
    rateLimit: { events: 1_000, windowMs: 1_000 }, dailyLimits: { perUser: 1_000, perIp: 25 }, concurrency: 1,
    log: { warn: () => {}, error: () => {} },
  });

  async function sessionsOfIp(ip: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    await database.db.insertInto('live_sessions').values(ids.map((id) => ({ id, user_id: null, device_id: null, client_ip: ip }))).execute();
    return ids;
  }

  async function charged(ip: string): Promise<number> {
    const row = await database.db.selectFrom('live_event_counts').select('events').where('subject', '=', `ip:${ip}`).executeTakeFirst();
    return Number(row?.events ?? 0);
  }

  it('a count this process remembers but another process moved on is counted again: the outcome of an exact read', async () => {
    const [a, b] = [ingest(), ingest()];
    const [s1, s2, s3, s4] = await sessionsOfIp('10.7.0.1', 4);
    expect(await outcome(a.store(s1!, events(10)))).toBe('stored 10');
    // The other process charges the same IP: process a still remembers 10.
    expect(await outcome(b.store(s2!, events(10)))).toBe('stored 10');
    // One group on a (same turn): 6 would take the IP to 26, 5 to 25. An exact read admits the 5 and refuses the 6.
    const [six, five] = await Promise.all([outcome(a.store(s3!, events(6))), outcome(a.store(s4!, events(5)))]);
    expect([six, five]).toEqual(['rate_limited', 'stored 5']);
    expect(await charged('10.7.0.1')).toBe(25);
    expect(await outcome(b.store(s2!, events(1)))).toBe('rate_limited');
    expect(await outcome(a.store(s1!, events(1)))).toBe('rate_limited');
    const stored = await database.db.selectFrom('posture_events').select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('session_id', 'in', [s1!, s2!, s3!, s4!]).executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(25);
  });

  it('a remembered count that fits is charged without a read, and still never past the ceiling', async () => {
    const a = ingest();
    const [s1, s2] = await sessionsOfIp('10.7.0.2', 2);
    const answers: string[] = [];
    // 4 at a time from one process: the known count grows with each charge; the 7th group would pass 25.
    for (let i = 0; i < 7; i++) answers.push(await outcome(a.store(i % 2 ? s1! : s2!, events(4))));
    expect(answers).toEqual([...Array.from({ length: 6 }, () => 'stored 4'), 'rate_limited']);
    expect(await charged('10.7.0.2')).toBe(24);
    expect(await outcome(a.store(s1!, events(1)))).toBe('stored 1');
    expect(await outcome(a.store(s2!, events(1)))).toBe('rate_limited');
  });
});
