import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { postEvents, startSession, uprightKeypoints } from './live.test-helper.ts';
import { aggregateSamples, totalsFromEvents, type EventSample } from './session-summary.ts';

const json = { 'content-type': 'application/json' };

async function storedEvents(t: TestApp, sessionId: string): Promise<number> {
  const row = await t.database.db.selectFrom('posture_events').select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('session_id', '=', sessionId).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('live event sizes (default limits)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('refuses a 100 KB event with 413 in the live shape and stores nothing', async () => {
    const sessionId = await startSession(t.app);
    // No string is long enough for the privacy rule: only the event's size gives it away.
    const padding = Object.fromEntries(Array.from({ length: 1_800 }, (_, i) => [`p${i}`, { x: 1.123456789, y: 2.123456789, confidence: 0.5 }]));
    const event = { label: 'Good', keypoints: { ...uprightKeypoints(), ...padding } };
    expect(JSON.stringify(event).length).toBeGreaterThan(100_000);
    const response = await postEvents(t.app, sessionId, event);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ detail: expect.stringMatching(/at most 16384 bytes/), code: 'payload_too_large' });
    expect(await storedEvents(t, sessionId)).toBe(0);
  });

  it('refuses a body over the route limit before parsing it, and a list over the event count', async () => {
    const sessionId = await startSession(t.app);
    const small = { label: 'Good', metadata: { note: 'x'.repeat(1_000) } };
    const huge = await postEvents(t.app, sessionId, Array.from({ length: 300 }, () => small));
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toEqual({ detail: 'Request body is too large', code: 'payload_too_large' });
    const many = await postEvents(t.app, sessionId, Array.from({ length: 101 }, () => ({})));
    expect(many.statusCode).toBe(413);
    expect(many.json().detail).toMatch(/at most 100/);
    expect(await storedEvents(t, sessionId)).toBe(0);
  });

  it('refuses metadata nested deeper than 4 or larger than 2 KiB with 400, and takes depth 4', async () => {
    const sessionId = await startSession(t.app);
    const deep = await postEvents(t.app, sessionId, { label: 'Good', metadata: { a: { b: { c: { d: { e: 1 } } } } } });
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toEqual({ detail: 'Invalid event.metadata: nested at most 4 levels deep', code: 'invalid_request' });
    const deepArray = await postEvents(t.app, sessionId, [{}, { metadata: { a: [[[[1]]]] } }]);
    expect(deepArray.statusCode).toBe(400);
    expect(deepArray.json().detail).toBe('Invalid events[1].metadata: nested at most 4 levels deep');
    const wide = await postEvents(t.app, sessionId, { metadata: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'value'])) });
    expect(wide.statusCode).toBe(400);
    expect(wide.json().detail).toBe('Invalid event.metadata: at most 2048 bytes as JSON');
    expect(await storedEvents(t, sessionId)).toBe(0);

    const fine = await postEvents(t.app, sessionId, { label: 'Good', metadata: { a: { b: { c: { d: 1 } } } } });
    expect(fine.statusCode).toBe(201);
    expect(await storedEvents(t, sessionId)).toBe(1);
  });

  it('pages events: every event exactly once, a cursor header on full pages only, at most 1,000 a page', async () => {
    const sessionId = await startSession(t.app);
    const count = 1_234;
    // Written directly: the API's 10-per-second budget would make this test take two minutes.
    await t.database.db.insertInto('posture_events')
      .values(Array.from({ length: count }, (_, i) => ({ session_id: sessionId, user_id: null, label: 'Good', angle: i % 90 })))
      .execute();

    const seen: number[] = [];
    const pageSizes: number[] = [];
    let url: string | null = `/api/sessions/${sessionId}/events/`;
    for (let pages = 0; url !== null && pages < 10; pages++) {
      const response: Awaited<ReturnType<typeof t.app.inject>> = await t.app.inject({ url });
      expect(response.statusCode).toBe(200);
      const page = response.json() as Array<{ id: number }>;
      pageSizes.push(page.length);
      seen.push(...page.map((e) => e.id));
      const next: string | string[] | number | undefined = response.headers['x-next-after-id'];
      if (next !== undefined) expect(Number(next)).toBe(page.at(-1)!.id);
      url = next === undefined ? null : `/api/sessions/${sessionId}/events/?after_id=${String(next)}`;
    }
    expect(pageSizes).toEqual([500, 500, 234]);
    expect(new Set(seen).size).toBe(count);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const tooMany = await t.app.inject({ url: `/api/sessions/${sessionId}/events/?limit=1001` });
    expect(tooMany.statusCode).toBe(400);
    const max = await t.app.inject({ url: `/api/sessions/${sessionId}/events/?limit=1000` });
    expect(max.json()).toHaveLength(1_000);
    expect(max.headers['x-next-after-id']).toBeDefined();
  });

  it('computes the end summary in the database, as the in-memory rule does', async () => {
    const sessionId = await startSession(t.app);
    const start = Date.UTC(2024, 0, 1, 12);
    const plan: Array<[number, string | null, number | null]> = [
      [0, 'Good', 10], [1.5, 'good', 12], [2, 'Mild', null], [9, 'Bad', 40], [9, 'Bad', 41], [10.25, null, 5], [11, 'Good', 3],
    ];
    const samples: EventSample[] = plan.map(([s, label, angle]) => ({ label, angle, timestamp: new Date(start + s * 1000) }));
    await t.database.db.insertInto('posture_events')
      .values(samples.map((s) => ({ session_id: sessionId, user_id: null, label: s.label, angle: s.angle, timestamp: s.timestamp })))
      .execute();
    const end = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/`, headers: json, payload: '{}' });
    expect(end.statusCode).toBe(200);
    const totals = totalsFromEvents(samples);
    const aggregate = aggregateSamples(samples);
    expect(end.json().summary).toEqual({
      total_seconds: totals.totalSeconds, good_seconds: totals.goodSeconds, mild_seconds: totals.mildSeconds,
      bad_seconds: totals.badSeconds, event_count: 7, average_angle: Math.round(aggregate.averageAngle! * 100) / 100,
    });
    expect(totals.goodSeconds).toBeGreaterThan(0);
  });
});

describe('live ceilings per user and per anonymous IP (tiny test limits)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      liveLimits: { openSessionsPerIp: 3, openSessionsPerUser: 2, eventsPerDayPerIp: 25, eventsPerDayPerUser: 15 },
    });
  });
  afterAll(() => t.close());

  const end = (sessionId: string) =>
    t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/`, headers: json, payload: '{}' });

  it('refuses the 4th open anonymous session of one IP with 429 and Retry-After; ending one makes room', async () => {
    const ids = [await startSession(t.app), await startSession(t.app), await startSession(t.app)];
    const refused = await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: json, payload: '{}' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ detail: expect.stringMatching(/Too many open sessions: at most 3/), code: 'rate_limited' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    const other = await t.app.inject({
      method: 'POST', url: '/api/sessions/start/', headers: json, payload: '{}', remoteAddress: '10.1.2.3',
    });
    expect(other.statusCode).toBe(201);

    expect((await end(ids[0]!)).statusCode).toBe(200);
    await startSession(t.app);
    for (const id of [ids[1]!, ids[2]!, other.json().session_id as string]) await end(id);
  });

  it("refuses a user's 3rd open session, not another user's first", async () => {
    const ana = await newUser(t.app);
    const bob = await newUser(t.app);
    await startSession(t.app, ana.token);
    await startSession(t.app, ana.token);
    const refused = await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: { ...json, ...bearer(ana.token) }, payload: '{}' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    await startSession(t.app, bob.token);
  });

  it('refuses events past the daily ceiling of an anonymous IP with 429, storing none of the refused request', async () => {
    // Sessions from their own IP, so the open-session test above does not share this budget.
    const start = async () => (await t.app.inject({
      method: 'POST', url: '/api/sessions/start/', headers: json, payload: '{}', remoteAddress: '10.9.9.9',
    })).json().session_id as string;
    const [a, b, c] = [await start(), await start(), await start()];
    const ten = Array.from({ length: 10 }, () => ({ label: 'Good' }));
    expect((await postEvents(t.app, a, ten)).statusCode).toBe(201);
    expect((await postEvents(t.app, b, ten)).statusCode).toBe(201);
    const over = await postEvents(t.app, c, ten);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({ detail: 'Too many events today: at most 25 a day', code: 'rate_limited' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(86_400);
    expect(await storedEvents(t, c)).toBe(0);
    // c's 1-second budget went to the refused request; a fresh session of the same IP shares the daily budget.
    expect((await end(a)).statusCode).toBe(200);
    const d = await start();
    expect((await postEvents(t.app, d, ten.slice(0, 5))).statusCode).toBe(201);
    const oneMore = await postEvents(t.app, d, [{}]);
    expect(oneMore.statusCode).toBe(429);
    expect(oneMore.json().detail).toBe('Too many events today: at most 25 a day');
    expect(await storedEvents(t, a) + await storedEvents(t, b) + await storedEvents(t, c) + await storedEvents(t, d)).toBe(25);
  });

  it("charges a user's events to the user across sessions", async () => {
    const user = await newUser(t.app);
    const [a, b] = [await startSession(t.app, user.token), await startSession(t.app, user.token)];
    expect((await postEvents(t.app, a, Array.from({ length: 10 }, () => ({ angle: 5 })))).statusCode).toBe(201);
    const over = await postEvents(t.app, b, Array.from({ length: 6 }, () => ({ angle: 5 })));
    expect(over.statusCode).toBe(429);
    expect(over.json().detail).toBe('Too many events today: at most 15 a day');
    expect((await postEvents(t.app, b, Array.from({ length: 4 }, () => ({ angle: 5 })))).statusCode).toBe(201);
    expect(await storedEvents(t, a) + await storedEvents(t, b)).toBe(14);
    expect((await postEvents(t.app, randomUUID(), [{}])).statusCode).toBe(404);
  });
});
