import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { postEvents, startSession, uprightKeypoints } from './live.test-helper.ts';

let t: TestApp;
beforeAll(async () => {
  // Many anonymous sessions from one loopback IP, most never ended: the open-session ceiling has its own tests.
  t = await createTestApp({ liveLimits: { openSessionsPerIp: 1_000 } });
});
afterAll(async () => {
  await t.close();
});

const json = { 'content-type': 'application/json' };

describe('the live service curl flow', () => {
  it('signup, login, start, event with keypoints, end, rejected image payload', async () => {
    const email = `curl-${Date.now()}@example.com`;
    const signup = await t.app.inject({
      method: 'POST', url: '/api/auth/signup/', headers: json,
      payload: JSON.stringify({ name: 'Ana', email, password: 'password123' }),
    });
    expect(signup.statusCode).toBe(201);
    const login = await t.app.inject({
      method: 'POST', url: '/api/auth/login/', headers: json, payload: JSON.stringify({ email, password: 'password123' }),
    });
    expect(login.statusCode).toBe(200);
    const token = login.json().token as string;

    const start = await t.app.inject({
      method: 'POST', url: '/api/sessions/start/', headers: { ...json, authorization: `Token ${token}` },
      payload: JSON.stringify({ device_id: 'laptop-1' }),
    });
    expect(start.statusCode).toBe(201);
    const sessionId = start.json().session_id as string;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const event = await postEvents(t.app, sessionId, { keypoints: uprightKeypoints(), metadata: { app: 'web' } });
    expect(event.statusCode).toBe(201);
    expect(event.json()).toEqual({ stored_events: 1 });

    const end = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/`, headers: json, payload: '{}' });
    expect(end.statusCode).toBe(200);
    expect(end.json()).toEqual({
      session_id: sessionId, ended: true,
      summary: { total_seconds: 0, good_seconds: 0, mild_seconds: 0, bad_seconds: 0, event_count: 1, average_angle: 0 },
    });

    const image = await postEvents(t.app, await startSession(t.app), { label: 'Good', image: 'data:image/jpeg;base64,AAAA' });
    expect(image.statusCode).toBe(400);
    expect(image.json()).toEqual({ detail: 'Raw frame/image uploads are not allowed', code: 'invalid_request' });

    const events = await t.app.inject({ url: `/api/sessions/${sessionId}/events/`, headers: bearer(token) });
    expect(events.statusCode).toBe(200);
    expect(events.json()).toEqual([{
      id: expect.any(Number), session_id: sessionId, label: 'Good', score: 0.9, angle: 0, neck_tilt: 0,
      timestamp: expect.any(String), created_at: expect.any(String), metadata: { app: 'web' },
      keypoints: expect.objectContaining({ left_hip: { x: 85, y: 200, confidence: 0.9 } }),
    }]);
  });
});

describe('POST /api/sessions/start/', () => {
  it('starts a session with no body, an empty JSON body or a device id; a bad token is 401', async () => {
    const noBody = await t.app.inject({ method: 'POST', url: '/api/sessions/start/' });
    expect(noBody.statusCode).toBe(201);
    const emptyJson = await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: json, payload: '' });
    expect(emptyJson.statusCode).toBe(201);
    expect(emptyJson.json().session_id).not.toBe(noBody.json().session_id);
    const badJson = await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: json, payload: '{"device_id":' });
    expect(badJson.json()).toEqual({ detail: 'Request body is not valid JSON', code: 'invalid_request' });
    const badToken = await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: { authorization: 'Bearer nope' } });
    expect(badToken.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/sessions/start/', payload: { device_id: 5 } })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'POST', url: '/api/sessions/start/', payload: { device_id: { a: 1 } } })).statusCode).toBe(400);
  });
});

describe('POST /api/sessions/:id/event/', () => {
  it('computes the angles server-side and labels from the calibration baseline', async () => {
    const user = await newUser(t.app);
    const calibrate = await t.app.inject({
      method: 'POST', url: '/api/calibration/', headers: bearer(user.token), payload: { baseline_angle: 15 },
    });
    expect(calibrate.statusCode).toBe(201);
    const sessionId = await startSession(t.app, user.token);
    // Hips shifted right by 100 px over a 100 px drop: a 45° spine, 30° from the baseline → Bad.
    const tilted = uprightKeypoints({ left_hip: { x: 185, y: 200, confidence: 0.9 }, right_hip: { x: 215, y: 200, confidence: 0.9 } });
    expect((await postEvents(t.app, sessionId, [{ keypoints: tilted }, { angle: 12 }, { angle: 30, label: 'Mine' }])).json())
      .toEqual({ stored_events: 3 });
    const events = (await t.app.inject({ url: `/api/sessions/${sessionId}/events/`, headers: bearer(user.token) })).json();
    expect(events.map((e: { angle: number; label: string }) => [e.angle, e.label])).toEqual([[45, 'Bad'], [12, 'Good'], [30, 'Mine']]);
  });

  it('prefers the calibration of the session device', async () => {
    const user = await newUser(t.app);
    for (const [device_id, baseline_angle] of [['phone', 40], [null, 0]] as const) {
      await t.app.inject({ method: 'POST', url: '/api/calibration/', headers: bearer(user.token), payload: { device_id, baseline_angle } });
    }
    const onPhone = await startSession(t.app, user.token, 'phone');
    const elsewhere = await startSession(t.app, user.token, 'tablet');
    await postEvents(t.app, onPhone, { angle: 40 });
    await postEvents(t.app, elsewhere, { angle: 40 });
    const label = async (id: string) =>
      (await t.app.inject({ url: `/api/sessions/${id}/events/`, headers: bearer(user.token) })).json()[0].label;
    expect(await label(onPhone)).toBe('Good');
    expect(await label(elsewhere)).toBe('Bad');
  });

  it('accepts zero coordinates, X/Y/score and list points; a missing nose gives a null neck tilt', async () => {
    const sessionId = await startSession(t.app);
    const response = await postEvents(t.app, sessionId, {
      keypoints: {
        left_shoulder: [0, 0, 0.8], right_shoulder: { X: 0, Y: 0, score: 0.8 },
        left_hip: { x: 0, y: 100, confidence: 0.8 }, right_hip: { x: 0, y: 100, confidence: 0.8 },
      },
    });
    expect(response.statusCode).toBe(201);
    const [event] = (await t.app.inject({ url: `/api/sessions/${sessionId}/events/` })).json();
    expect(event).toMatchObject({ angle: 0, neck_tilt: null, score: 0.8, label: 'Good' });
  });

  it('stores low-confidence keypoints with null angles and no label', async () => {
    const sessionId = await startSession(t.app);
    const faint = Object.fromEntries(Object.entries(uprightKeypoints()).map(([k, v]) => [k, { ...(v as object), confidence: 0.1 }]));
    expect((await postEvents(t.app, sessionId, { keypoints: faint })).statusCode).toBe(201);
    const [event] = (await t.app.inject({ url: `/api/sessions/${sessionId}/events/` })).json();
    expect(event).toMatchObject({ angle: null, neck_tilt: null, score: 0.1, label: null });
  });

  it.each([
    ['hips above the shoulders', { keypoints: uprightKeypoints({ left_hip: { x: 85, y: 10 }, right_hip: { x: 115, y: 10 } }) },
      'Computed angle out of range'],
    ['a missing hip', { keypoints: uprightKeypoints({ right_hip: undefined }) }, 'Missing required keypoints: right_hip'],
    ['a client angle over 90', { angle: 91 }, 'angle must be a number between 0 and 90'],
    ['a string angle', { angle: '12' }, 'Invalid event.angle: must be number'],
    ['a label with an angle over 90', { label: 'Good', angle: 90.5 }, 'angle must be a number between 0 and 90'],
    ['a non-numeric coordinate', { keypoints: uprightKeypoints({ nose: { x: 'a', y: 1 } }) }, 'keypoints.nose: x must be a finite number'],
    ['keypoints as a string', { keypoints: 'none' }, 'Invalid event.keypoints: must be object'],
    ['a bad timestamp', { angle: 1, timestamp: 'yesterday' }, 'Invalid event.timestamp: expected Unix seconds or an ISO-8601 date-time'],
    ['a number body', 42, 'Invalid event: expected an event object'],
    ['a list with a bad event', [{ angle: 1 }, 'x'], 'Invalid events[1]: expected an event object'],
  ])('answers 400 {detail} for %s', async (_name, payload, detail) => {
    const response = await postEvents(t.app, await startSession(t.app), payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail, code: 'invalid_request' });
  });

  it('refuses image/frame keys at any depth and any case, and long strings', async () => {
    const sessionId = await startSession(t.app);
    for (const payload of [
      { angle: 1, metadata: { nested: [{ Frame: 1 }] } },
      [{ angle: 1 }, { angle: 2, keypoints: { IMAGE: null } }],
    ]) {
      expect((await postEvents(t.app, sessionId, payload)).json()).toEqual({ detail: 'Raw frame/image uploads are not allowed', code: 'invalid_request' });
    }
    const long = await postEvents(t.app, sessionId, { angle: 1, metadata: { note: 'x'.repeat(5001) } });
    expect(long.statusCode).toBe(400);
    expect(long.json().detail).toBe('Payload too large - did you try to send raw frames?');
    // Outside metadata, whose own ceiling (2 KiB) would refuse it first: an unknown field is ignored, not stored.
    expect((await postEvents(t.app, sessionId, { angle: 1, note: 'x'.repeat(5000) })).statusCode).toBe(201);
  });

  it('stores a batch whole or not at all', async () => {
    const sessionId = await startSession(t.app);
    const refused = await postEvents(t.app, sessionId, [{ angle: 10 }, { angle: 20 }, { angle: 95 }]);
    expect(refused.statusCode).toBe(400);
    expect((await t.app.inject({ url: `/api/sessions/${sessionId}/events/` })).json()).toEqual([]);
    expect((await postEvents(t.app, sessionId, [{ angle: 10 }, { angle: 20 }])).json()).toEqual({ stored_events: 2 });
    expect((await t.app.inject({ url: `/api/sessions/${sessionId}/events/` })).json()).toHaveLength(2);
  });

  it('answers 404 for unknown and malformed session ids', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1'; DROP TABLE live_sessions;--"]) {
      const response = await postEvents(t.app, encodeURIComponent(id), { angle: 1 });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ detail: 'Session not found', code: 'not_found' });
    }
    for (const action of ['pause', 'resume', 'end']) {
      const response = await t.app.inject({ method: 'POST', url: `/api/sessions/nope/${action}/` });
      expect(response.statusCode).toBe(404);
    }
    expect((await t.app.inject({ url: '/api/sessions/nope/events/' })).statusCode).toBe(404);
  });

  it('refuses events while paused and after the end (409), and pause/resume report the state', async () => {
    const sessionId = await startSession(t.app);
    const pause = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/pause/` });
    expect(pause.json()).toEqual({ session_id: sessionId, is_paused: true });
    const paused = await postEvents(t.app, sessionId, { angle: 1 });
    expect(paused.statusCode).toBe(409);
    expect(paused.json()).toEqual({ detail: 'Session is paused', code: 'conflict' });
    expect((await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/resume/` })).json())
      .toEqual({ session_id: sessionId, is_paused: false });
    expect((await postEvents(t.app, sessionId, { angle: 1 })).statusCode).toBe(201);
    await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/` });
    const ended = await postEvents(t.app, sessionId, { angle: 1 });
    expect(ended.statusCode).toBe(409);
    expect(ended.json()).toEqual({ detail: 'Session has ended', code: 'conflict' });
    expect((await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/pause/` })).statusCode).toBe(409);
  });
});

describe('events without keypoints or angle', () => {
  it('stores a label-only event with a null angle, lists it, and counts it in the end totals', async () => {
    const user = await newUser(t.app);
    const sessionId = await startSession(t.app, user.token);
    const labelOnly = await postEvents(t.app, sessionId, { label: 'Good' });
    expect(labelOnly.statusCode).toBe(201);
    expect(labelOnly.json()).toEqual({ stored_events: 1 });
    const [event] = (await t.app.inject({ url: `/api/sessions/${sessionId}/events/`, headers: bearer(user.token) })).json();
    expect(event).toEqual({
      id: expect.any(Number), session_id: sessionId, label: 'Good', score: null, angle: null, neck_tilt: null,
      timestamp: expect.any(String), created_at: expect.any(String), metadata: {}, keypoints: null,
    });

    const timed = await startSession(t.app, user.token);
    const t0 = 1_700_000_000;
    const posted = await postEvents(t.app, timed, [
      { label: 'Good', timestamp: t0 }, { label: 'bad', timestamp: t0 + 2 }, { angle: null, timestamp: t0 + 3 },
      { score: 0.4, metadata: { source: 'watch' }, timestamp: t0 + 4 },
    ]);
    expect(posted.json()).toEqual({ stored_events: 4 });
    const listed = (await t.app.inject({ url: `/api/sessions/${timed}/events/`, headers: bearer(user.token) })).json();
    expect(listed.map((e: { label: string | null; angle: number | null; score: number | null }) => [e.label, e.angle, e.score]))
      .toEqual([['Good', null, null], ['bad', null, null], [null, null, null], [null, null, 0.4]]);
    // Gaps 2, 1, 1 and the median (1) for the last: Good 2 s, bad 1 s, the two unlabelled 2 s in the total only.
    const end = await t.app.inject({ method: 'POST', url: `/api/sessions/${timed}/end/` });
    expect(end.json().summary).toEqual({
      total_seconds: 5, good_seconds: 2, mild_seconds: 0, bad_seconds: 1, event_count: 4, average_angle: null,
    });
    const [session] = (await t.app.inject({ url: '/api/users/me/sessions/', headers: bearer(user.token) })).json();
    expect(session).toMatchObject({ id: timed, ended: true, total_seconds: 5, good_seconds: 2, mild_seconds: 0, bad_seconds: 1 });
  });

  it('averages only the events that have an angle', async () => {
    const sessionId = await startSession(t.app);
    await postEvents(t.app, sessionId, [{ angle: 10 }, { label: 'Mild' }, { angle: 20 }]);
    const end = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/` });
    expect(end.json().summary).toMatchObject({ event_count: 3, average_angle: 15 });
  });
});

describe('POST /api/sessions/:id/end/', () => {
  it('reads null totals as omitted (computed from the events), not as 0', async () => {
    const sessionId = await startSession(t.app);
    const t0 = 1_700_000_000;
    await postEvents(t.app, sessionId, [{ angle: 2, timestamp: t0 }, { angle: 40, timestamp: t0 + 2 }]);
    const end = await t.app.inject({
      method: 'POST', url: `/api/sessions/${sessionId}/end/`,
      payload: { total_seconds: null, good_seconds: null, mild_seconds: null, bad_seconds: 1 },
    });
    expect(end.statusCode).toBe(200);
    expect(end.json().summary).toMatchObject({ total_seconds: 4, good_seconds: 2, mild_seconds: 0, bad_seconds: 1 });
  });

  it('computes omitted totals from the events and keeps given ones', async () => {
    const sessionId = await startSession(t.app);
    const t0 = 1_700_000_000;
    await postEvents(t.app, sessionId, [
      { angle: 2, timestamp: t0 }, { angle: 15, timestamp: t0 + 2 }, { angle: 40, timestamp: t0 + 3 }, { angle: 3, timestamp: t0 + 4 },
    ]);
    const end = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/`, payload: { bad_seconds: 0.5 } });
    expect(end.statusCode).toBe(200);
    // Gaps 2, 1, 1; the last event counts for the median gap (1): good 2 + 1, mild 1, total 5.
    expect(end.json().summary).toEqual({
      total_seconds: 5, good_seconds: 3, mild_seconds: 1, bad_seconds: 0.5, event_count: 4, average_angle: 15,
    });
    const again = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/`, payload: { total_seconds: 99 } });
    expect(again.json().summary.total_seconds).toBe(5);
  });

  it('answers 400 for negative totals or parts above the total', async () => {
    const sessionId = await startSession(t.app);
    for (const payload of [{ total_seconds: -1 }, { total_seconds: 10, good_seconds: 6, bad_seconds: 5 }, { good_seconds: 'a' }]) {
      const response = await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/end/`, payload });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'invalid_request', detail: expect.any(String) });
    }
    const ok = await t.app.inject({
      method: 'POST', url: `/api/sessions/${sessionId}/end/`,
      payload: { total_seconds: 10, good_seconds: 6, mild_seconds: 1, bad_seconds: 3 },
    });
    expect(ok.json().summary).toMatchObject({ total_seconds: 10, good_seconds: 6, mild_seconds: 1, bad_seconds: 3, event_count: 0 });
  });
});

describe('reads are per user', () => {
  it("the owner reads a session's events; another user gets 404, no token 401; anonymous sessions need only the id", async () => {
    const [owner, stranger] = [await newUser(t.app), await newUser(t.app)];
    const sessionId = await startSession(t.app, owner.token);
    await postEvents(t.app, sessionId, { angle: 5 });
    const read = (headers: Record<string, string>) => t.app.inject({ url: `/api/sessions/${sessionId}/events/`, headers });
    expect((await read(bearer(owner.token))).json()).toHaveLength(1);
    const other = await read(bearer(stranger.token));
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ detail: 'Session not found', code: 'not_found' });
    expect((await read({})).statusCode).toBe(401);
    const anonymous = await startSession(t.app);
    await postEvents(t.app, anonymous, { angle: 5 });
    expect((await t.app.inject({ url: `/api/sessions/${anonymous}/events/`, headers: bearer(stranger.token) })).json()).toHaveLength(1);
  });

  it('GET /api/users/me/sessions/ lists only the caller\'s sessions, newest first', async () => {
    const [a, b] = [await newUser(t.app), await newUser(t.app)];
    const first = await startSession(t.app, a.token, 'desk');
    const second = await startSession(t.app, a.token);
    await startSession(t.app, b.token);
    await t.app.inject({ method: 'POST', url: `/api/sessions/${first}/end/`, payload: { total_seconds: 3 } });
    const list = (await t.app.inject({ url: '/api/users/me/sessions/', headers: bearer(a.token) })).json();
    expect(list.map((s: { id: string }) => s.id)).toEqual([second, first]);
    expect(list[1]).toMatchObject({ device_id: 'desk', ended: true, total_seconds: 3, is_paused: false });
    expect((await t.app.inject({ url: '/api/users/me/sessions/' })).statusCode).toBe(401);
  });
});

describe('rate limit', () => {
  it('refuses the 11th event in a second with 429 and Retry-After: 1; a batch counts each event', async () => {
    const sessionId = await startSession(t.app);
    expect((await postEvents(t.app, sessionId, Array.from({ length: 8 }, () => ({ angle: 1 })))).statusCode).toBe(201);
    const over = await postEvents(t.app, sessionId, [{ angle: 1 }, { angle: 1 }, { angle: 1 }]);
    expect(over.statusCode).toBe(429);
    expect(over.headers['retry-after']).toBe('1');
    expect(over.json()).toEqual({ detail: 'Too many events per second', code: 'rate_limited' });
    expect((await postEvents(t.app, sessionId, [{ angle: 1 }, { angle: 1 }])).statusCode).toBe(201);
    expect((await postEvents(t.app, sessionId, { angle: 1 })).statusCode).toBe(429);
    expect((await t.app.inject({ url: `/api/sessions/${sessionId}/events/` })).json()).toHaveLength(10);
  });

  it('an empty list stores nothing; a list of 11 is always over the limit', async () => {
    const sessionId = await startSession(t.app);
    expect((await postEvents(t.app, sessionId, [])).json()).toEqual({ stored_events: 0 });
    expect((await postEvents(t.app, sessionId, Array.from({ length: 11 }, () => ({ angle: 1 })))).statusCode).toBe(429);
    expect((await postEvents(t.app, sessionId, Array.from({ length: 10 }, () => ({ angle: 1 })))).statusCode).toBe(201);
  });

  it('rejected requests consume no budget, and concurrent requests never exceed the limit', async () => {
    const sessionId = await startSession(t.app);
    for (let i = 0; i < 20; i++) expect((await postEvents(t.app, sessionId, { angle: 100 })).statusCode).toBe(400);
    const results = await Promise.all(Array.from({ length: 15 }, () => postEvents(t.app, sessionId, { angle: 1 })));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(10);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(5);
    const other = await startSession(t.app);
    expect((await postEvents(t.app, other, { angle: 1 })).statusCode).toBe(201);
  });

  it('a paused session refuses without consuming budget', async () => {
    const sessionId = await startSession(t.app);
    await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/pause/` });
    for (let i = 0; i < 12; i++) expect((await postEvents(t.app, sessionId, { angle: 1 })).statusCode).toBe(409);
    await t.app.inject({ method: 'POST', url: `/api/sessions/${sessionId}/resume/` });
    expect((await postEvents(t.app, sessionId, Array.from({ length: 10 }, () => ({ angle: 1 })))).statusCode).toBe(201);
  });
});

describe('OpenAPI', () => {
  it('documents every live route', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const expected = {
      '/api/sessions/start/': 'post', '/api/sessions/{id}/event/': 'post', '/api/sessions/{id}/pause/': 'post',
      '/api/sessions/{id}/resume/': 'post', '/api/sessions/{id}/end/': 'post', '/api/sessions/{id}/events/': 'get',
      '/api/users/me/sessions/': 'get', '/api/calibration/': 'post', '/api/device_metrics/': 'post', '/ws/posture/': 'get',
    };
    for (const [path, method] of Object.entries(expected)) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths['/api/calibration/']?.get).toBeDefined();
  });
});
