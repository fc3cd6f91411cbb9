import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { NO_DEVICE_METRICS } from './live-devices.service.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('GET/POST /api/calibration/', () => {
  it('records baselines and lists only the caller\'s, newest first', async () => {
    const [a, b] = [await newUser(t.app), await newUser(t.app)];
    const first = await t.app.inject({ method: 'POST', url: '/api/calibration/', headers: bearer(a.token), payload: { device_id: 'cam', baseline_angle: 0 } });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ calibration_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const second = await t.app.inject({ method: 'POST', url: '/api/calibration/', headers: bearer(a.token), payload: { baseline_angle: 90 } });
    await t.app.inject({ method: 'POST', url: '/api/calibration/', headers: bearer(b.token), payload: { baseline_angle: 7 } });
    const list = (await t.app.inject({ url: '/api/calibration/', headers: bearer(a.token) })).json();
    expect(list).toEqual([
      { id: second.json().calibration_id, device_id: null, baseline_angle: 90, created_at: expect.any(String) },
      { id: first.json().calibration_id, device_id: 'cam', baseline_angle: 0, created_at: expect.any(String) },
    ]);
  });

  it('answers 400 {detail} for a baseline outside 0..90 or of the wrong type, 401 without a token', async () => {
    const user = await newUser(t.app);
    for (const payload of [{ baseline_angle: 91 }, { baseline_angle: -1 }, { baseline_angle: 'upright' }, {}, { baseline_angle: 5, device_id: { id: 7 } }]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/calibration/', headers: bearer(user.token), payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toEqual({ detail: expect.stringMatching(/^Invalid body/), code: 'invalid_request' });
    }
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/calibration/', payload: { baseline_angle: 5 } });
    expect(anonymous.statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/calibration/' })).statusCode).toBe(401);
  });
});

describe('POST /api/device_metrics/', () => {
  it('stores a sample, with or without a token', async () => {
    const user = await newUser(t.app);
    const payload = { device_id: 'phone-1', battery_level: 55.5, fps: 30 };
    const withToken = await t.app.inject({ method: 'POST', url: '/api/device_metrics/', headers: bearer(user.token), payload });
    expect(withToken.statusCode).toBe(201);
    expect(withToken.json()).toEqual({ stored: true });
    expect((await t.app.inject({ method: 'POST', url: '/api/device_metrics/', payload: { ...payload, battery_level: 0, fps: 240 } })).statusCode).toBe(201);
    const rows = await t.database.db.selectFrom('device_metrics').selectAll().where('device_id', '=', 'phone-1').orderBy('id').execute();
    expect(rows.map((r) => [r.user_id, r.battery_level, r.fps])).toEqual([[user.id, 55.5, 30], [null, 0, 240]]);
  });

  it('accepts any subset of the hints and stores the missing ones as null; other keys are ignored', async () => {
    const user = await newUser(t.app);
    for (const payload of [
      { battery_level: 87 }, { fps: 24 }, { device_id: 'subset-phone' }, { device_id: 'subset-phone', fps: 60 },
      { battery_level: null, fps: '12.5', app_version: '2.1' }, { battery_level: 100, fps: 0 },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/device_metrics/', headers: bearer(user.token), payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(201);
      expect(response.json()).toEqual({ stored: true });
    }
    const rows = await t.database.db.selectFrom('device_metrics').selectAll().where('user_id', '=', user.id).orderBy('id').execute();
    expect(rows.map((r) => [r.device_id, r.battery_level, r.fps])).toEqual([
      [null, 87, null], [null, null, 24], ['subset-phone', null, null], ['subset-phone', null, 60],
      [null, null, 12.5], [null, 100, 0],
    ]);
  });

  it('answers 400 with a clear message, storing nothing, when no known hint is given', async () => {
    const user = await newUser(t.app);
    for (const payload of [{}, { battery: 50, frames_per_second: 30 }, { battery_level: null }, { device_id: null, fps: null }]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/device_metrics/', headers: bearer(user.token), payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toEqual({ detail: NO_DEVICE_METRICS, code: 'invalid_request' });
    }
    const rows = await t.database.db.selectFrom('device_metrics').select('id').where('user_id', '=', user.id).execute();
    expect(rows).toEqual([]);
  });

  it.each([
    [{ device_id: 'd', battery_level: 101, fps: 30 }],
    [{ device_id: 'd', battery_level: -1, fps: 30 }],
    [{ device_id: 'd', battery_level: 50, fps: 241 }],
    [{ device_id: 'd', battery_level: 'full', fps: 30 }],
    [{ battery_level: 101 }],
    [{ fps: -1 }],
    [{ device_id: 'x'.repeat(129) }],
    [{ device_id: { id: 7 } }],
  ])('answers 400 {detail} for %j', async (payload) => {
    const response = await t.app.inject({ method: 'POST', url: '/api/device_metrics/', payload });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_request', detail: expect.stringMatching(/^Invalid body/) });
  });
});

describe('anonymous writes that create rows', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({ auth: { anonymousWritesPerMinute: 2 } });
  });
  afterAll(() => limited.close());

  it('share a budget per client IP, per route; signed-in callers and other IPs are not held back', async () => {
    const post = (url: string, payload: object, options: { token?: string; ip?: string } = {}) => limited.app.inject({
      method: 'POST', url, payload, remoteAddress: options.ip ?? '198.51.100.7', headers: options.token ? bearer(options.token) : {},
    });
    const metrics = { device_id: 'kiosk', battery_level: 80, fps: 30 };
    for (let i = 0; i < 2; i++) {
      expect((await post('/api/sessions/start/', {})).statusCode).toBe(201);
      expect((await post('/api/device_metrics/', metrics)).statusCode).toBe(201);
    }
    const sessionsBefore = await limited.database.db.selectFrom('live_sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();

    const refused = await post('/api/sessions/start/', {});
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.json()).toEqual({ detail: 'Too many requests, try again later', code: 'rate_limited' });
    expect((await post('/api/device_metrics/', metrics)).statusCode).toBe(429);
    const sessionsAfter = await limited.database.db.selectFrom('live_sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(sessionsAfter.n)).toBe(Number(sessionsBefore.n));

    const user = await newUser(limited.app);
    expect((await post('/api/sessions/start/', {}, { token: user.token })).statusCode).toBe(201);
    expect((await post('/api/device_metrics/', metrics, { token: user.token })).statusCode).toBe(201);
    expect((await post('/api/sessions/start/', {}, { ip: '198.51.100.8' })).statusCode).toBe(201);
  });
});
