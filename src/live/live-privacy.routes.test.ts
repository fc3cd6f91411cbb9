import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { startSession } from './live.test-helper.ts';
import { PAYLOAD_TOO_LARGE, RAW_MEDIA_REFUSED } from './raw-media.ts';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await createTestApp();
  token = (await newUser(t.app)).token;
});
afterAll(async () => {
  await t.close();
});

interface BodyRoute {
  /** As the OpenAPI document names it. */
  path: string;
  url: () => Promise<string>;
  auth: boolean;
  /** A body the route accepts, so a refusal can only come from what the test adds to it. */
  clean: Record<string, unknown>;
}

const openSession = async () => startSession(t.app, token);
const pausedSession = async () => {
  const id = await openSession();
  await t.app.inject({ method: 'POST', url: `/api/sessions/${id}/pause/` });
  return id;
};

const ROUTES: BodyRoute[] = [
  { path: '/api/sessions/start/', url: async () => '/api/sessions/start/', auth: true, clean: { device_id: 'desk' } },
  { path: '/api/sessions/start/', url: async () => '/api/sessions/start/', auth: false, clean: {} },
  { path: '/api/sessions/{id}/event/', url: async () => `/api/sessions/${await openSession()}/event/`, auth: false, clean: { label: 'Good' } },
  { path: '/api/sessions/{id}/pause/', url: async () => `/api/sessions/${await openSession()}/pause/`, auth: false, clean: {} },
  { path: '/api/sessions/{id}/resume/', url: async () => `/api/sessions/${await pausedSession()}/resume/`, auth: false, clean: {} },
  { path: '/api/sessions/{id}/end/', url: async () => `/api/sessions/${await openSession()}/end/`, auth: false, clean: { total_seconds: 3 } },
  { path: '/api/calibration/', url: async () => '/api/calibration/', auth: true, clean: { baseline_angle: 5 } },
  { path: '/api/device_metrics/', url: async () => '/api/device_metrics/', auth: false, clean: { battery_level: 50 } },
  { path: '/api/device_metrics/', url: async () => '/api/device_metrics/', auth: true, clean: { device_id: 'p', fps: 30 } },
];

/** Ways a picture hides in an otherwise good body: any case, any depth, inside a list; and a base64-sized string. */
const POISONS: Array<[string, (clean: Record<string, unknown>) => unknown, string]> = [
  ['a top-level image key', (clean) => ({ ...clean, image: 'data:image/jpeg;base64,AAAA' }), RAW_MEDIA_REFUSED],
  ['a nested FRAME key in a list', (clean) => ({ ...clean, extra: { shots: [{ FRAME: null }] } }), RAW_MEDIA_REFUSED],
  ['a string over 5000 characters', (clean) => ({ ...clean, note: 'x'.repeat(5001) }), PAYLOAD_TOO_LARGE],
];

/** Everything the live routes can write, in a comparable form. */
async function liveState(): Promise<unknown> {
  const { db } = t.database;
  return {
    sessions: await db.selectFrom('live_sessions').selectAll().orderBy('id').execute(),
    events: await db.selectFrom('posture_events').selectAll().orderBy('id').execute(),
    calibrations: await db.selectFrom('calibrations').selectAll().orderBy('id').execute(),
    metrics: await db.selectFrom('device_metrics').selectAll().orderBy('id').execute(),
  };
}

describe('the privacy rule on every live route that takes a body', () => {
  it('covers every POST route of the live sessions, calibration and device metrics API', async () => {
    const document = (await t.app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const livePosts = Object.entries(document.paths)
      .filter(([path, operations]) => 'post' in operations && /^\/api\/(sessions|calibration|device_metrics)\//.test(path))
      .map(([path]) => path);
    expect(new Set(ROUTES.map((r) => r.path))).toEqual(new Set(livePosts));
  });

  for (const route of ROUTES) {
    it(`POST ${route.path}${route.auth ? ' (signed in)' : ''}: 400 {detail}, nothing stored, and the clean body is accepted`, async () => {
      const url = await route.url();
      const headers = { 'content-type': 'application/json', ...(route.auth ? bearer(token) : {}) };
      for (const [what, poison, detail] of POISONS) {
        const before = await liveState();
        const response = await t.app.inject({ method: 'POST', url, headers, payload: JSON.stringify(poison(route.clean)) });
        expect(response.statusCode, what).toBe(400);
        expect(response.json(), what).toEqual({ detail, code: 'invalid_request' });
        expect(await liveState(), `${what} changed what is stored`).toEqual(before);
      }
      const accepted = await t.app.inject({ method: 'POST', url, headers, payload: JSON.stringify(route.clean) });
      expect(accepted.statusCode, accepted.body).toBeLessThan(300);
    });
  }
});
