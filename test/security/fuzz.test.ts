import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uprightKeypoints } from '../../src/live/live.test-helper.ts';
import { createUsersRepository } from '../../src/users/users.repository.ts';
import { bearer, newUser, uniqueEmail, type TestUser } from '../helpers/factories.ts';
import {
  deeplyNested, expectHealthy, expectNoServerError, fuzzParams, malformedJson, nastyJson, nastyNumber, nastyPathSegment, nastyQuery,
  nastyString, NO_CHANGE, percentEncode, stateChange, storedState, type Family,
} from '../helpers/fuzz.ts';
import { multipart } from '../helpers/multipart.ts';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app.ts';

/**
 * Every HTTP route of both families under hostile input: path ids, JSON bodies, query strings, credentials.
 * Properties: never a 5xx; an error has its family's body; a refused request (4xx) changes no row and no stored
 * file; the process still answers /api/health afterwards. Uploads, sockets and the model server have their own
 * files (fuzz-upload, fuzz-ws, fuzz-model-server).
 */

const WEBHOOK_SECRET = 'fuzz-webhook-secret';
let t: TestApp;
let storageRoot: string;
let user: TestUser;
let admin: TestUser;
let analysisId: string;

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
type Params = Record<string, string>;

interface RouteCase {
  method: Method;
  /** As the OpenAPI document writes it: `{name}` for a parameter. */
  path: string;
  family: Family;
  /** `admin`: a fresh admin access token per request (admins reach every handler); `none`: no credentials. */
  auth: 'admin' | 'none';
  /** Good values for the path parameters, per request (a fresh live session, the kept analysis...). */
  params?: () => Promise<Params> | Params;
  /** A body the route accepts; the fuzz replaces parts of it. Absent: the route reads no body. */
  body?: () => Record<string, unknown>;
  /** Query keys the route reads. */
  query?: readonly string[];
  headers?: Record<string, string>;
  /** A refusal may free what the request names (finalize with no uploaded view frees the session, by design). */
  freesOnRefusal?: true;
}

const freshSession = async (): Promise<Params> => {
  const response = await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: bearer(admin.token), payload: {} });
  return { id: response.json().session_id as string };
};
const keptAnalysis = (): Params => ({ id: analysisId });
const keypoints17 = (): number[][] => Array.from({ length: 17 }, (_, i) => [100 + (i % 2) * 20, 40 + i * 25, 0.9]);

const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/api/health', family: 'studio', auth: 'none' },
  { method: 'GET', path: '/api/ready', family: 'studio', auth: 'none' },
  { method: 'POST', path: '/auth/register', family: 'studio', auth: 'none', body: () => ({ email: uniqueEmail('fz'), name: 'Fuzz', password: 'correct horse battery' }) },
  { method: 'POST', path: '/auth/login', family: 'studio', auth: 'none', body: () => ({ email: user.email, password: user.password }) },
  { method: 'POST', path: '/auth/logout', family: 'studio', auth: 'admin' },
  { method: 'GET', path: '/auth/profile', family: 'studio', auth: 'admin' },
  { method: 'GET', path: '/auth/validate-session', family: 'studio', auth: 'admin' },
  { method: 'GET', path: '/auth/ws-token', family: 'studio', auth: 'admin' },
  { method: 'GET', path: '/auth/gen-tele-link', family: 'studio', auth: 'admin' },
  { method: 'POST', path: '/api/posture/score', family: 'studio', auth: 'admin', body: () => ({ keypoints: keypoints17(), view: 'left', profile: 'stance' }) },
  { method: 'GET', path: '/files/{*}', family: 'studio', auth: 'none', params: () => ({ '*': `videos/${user.id}/fz/cx_front.jpg` }), query: ['expires', 'signature', 'filename'] },
  { method: 'HEAD', path: '/files/{*}', family: 'studio', auth: 'none', params: () => ({ '*': `videos/${user.id}/fz/cx_front.jpg` }), query: ['expires', 'signature'] },
  { method: 'PUT', path: '/files/{*}', family: 'studio', auth: 'none', params: () => ({ '*': `videos/${user.id}/fz/cx_front.jpg` }), query: ['expires', 'signature'], body: () => ({ bytes: 'not really a file' }) },
  { method: 'POST', path: '/api/video/upload', family: 'studio', auth: 'admin', body: () => ({ session_id: 'fz_json' }) },
  { method: 'POST', path: '/api/video/delete', family: 'studio', auth: 'admin', body: () => ({ session_id: 'fz_absent', filename: 'cx_front.jpg' }) },
  { method: 'POST', path: '/api/video/delete/multiview', family: 'studio', auth: 'admin', body: () => ({ session_id: 'fz_absent' }) },
  {
    method: 'POST', path: '/api/video/upload/presign', family: 'studio', auth: 'admin',
    body: () => ({ session_id: `fz_${randomUUID().slice(0, 8)}`, model: 'cx', profile: 'stance', views: { front: { filename: 'me.jpg', content_type: 'image/jpeg', size: 1000 } } }),
  },
  { method: 'POST', path: '/api/video/upload/finalize', family: 'studio', auth: 'admin', body: () => ({ session_id: 'fz_absent' }), freesOnRefusal: true },
  {
    method: 'POST', path: '/api/minio/webhook', family: 'studio', auth: 'none', headers: { authorization: `Bearer ${WEBHOOK_SECRET}` },
    body: () => ({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: `videos/${user.id}/fz_absent/cx_front.jpg`, size: 10 } } }] }),
  },
  { method: 'GET', path: '/api/analysis/list', family: 'studio', auth: 'admin', query: ['limit', 'cursor'] },
  { method: 'GET', path: '/api/analysis/summary', family: 'studio', auth: 'admin' },
  { method: 'POST', path: '/api/analysis/summary/retry', family: 'studio', auth: 'admin', body: () => ({}) },
  { method: 'GET', path: '/api/analysis/summary/{user_id}', family: 'studio', auth: 'admin', params: () => ({ user_id: user.id }) },
  { method: 'GET', path: '/api/analysis/{id}', family: 'studio', auth: 'admin', params: keptAnalysis },
  { method: 'DELETE', path: '/api/analysis/{id}', family: 'studio', auth: 'admin', params: () => ({ id: randomUUID() }) },
  { method: 'GET', path: '/api/analysis/report/{id}', family: 'studio', auth: 'admin', params: keptAnalysis },
  { method: 'GET', path: '/api/analysis/{id}/frames.csv', family: 'studio', auth: 'admin', params: keptAnalysis, query: ['view'] },
  { method: 'GET', path: '/api/analysis/{id}/frames.trc', family: 'studio', auth: 'admin', params: keptAnalysis, query: ['view'] },
  { method: 'GET', path: '/api/analysis/{id}/frames.mot', family: 'studio', auth: 'admin', params: keptAnalysis, query: ['view'] },
  { method: 'POST', path: '/api/analysis/retry/{id}', family: 'studio', auth: 'admin', params: keptAnalysis, body: () => ({ model: 'gy' }) },
  { method: 'GET', path: '/api/user', family: 'studio', auth: 'admin' },
  { method: 'GET', path: '/api/users', family: 'studio', auth: 'admin', query: ['limit', 'offset'] },
  { method: 'GET', path: '/api/user/{id}', family: 'studio', auth: 'admin', params: () => ({ id: user.id }) },
  { method: 'GET', path: '/api/analysis/list/{user_id}', family: 'studio', auth: 'admin', params: () => ({ user_id: user.id }), query: ['limit', 'cursor'] },
  { method: 'GET', path: '/ws/analysis', family: 'studio', auth: 'none', query: ['token'] },
  { method: 'POST', path: '/api/auth/signup/', family: 'live', auth: 'none', body: () => ({ name: 'Fuzz', email: uniqueEmail('fzl'), password: 'correct horse battery', settings: { theme: 'dark' } }) },
  { method: 'POST', path: '/api/auth/login/', family: 'live', auth: 'none', body: () => ({ email: user.email, password: user.password }) },
  { method: 'GET', path: '/api/auth/me/', family: 'live', auth: 'admin' },
  { method: 'POST', path: '/api/sessions/start/', family: 'live', auth: 'admin', body: () => ({ device_id: 'fuzz-device' }) },
  {
    method: 'POST', path: '/api/sessions/{id}/event/', family: 'live', auth: 'none', params: freshSession,
    body: () => ({ label: 'Good', score: 0.9, angle: 12, timestamp: 1_700_000_000, metadata: { app: 'fuzz' }, keypoints: uprightKeypoints() }),
  },
  { method: 'POST', path: '/api/sessions/{id}/pause/', family: 'live', auth: 'none', params: freshSession },
  { method: 'POST', path: '/api/sessions/{id}/resume/', family: 'live', auth: 'none', params: freshSession },
  { method: 'POST', path: '/api/sessions/{id}/end/', family: 'live', auth: 'none', params: freshSession, body: () => ({ total_seconds: 10, good_seconds: 5, mild_seconds: 3, bad_seconds: 2 }) },
  { method: 'GET', path: '/api/sessions/{id}/events/', family: 'live', auth: 'admin', params: freshSession, query: ['after_id', 'limit'] },
  { method: 'GET', path: '/api/users/me/sessions/', family: 'live', auth: 'admin', query: ['limit', 'offset'] },
  { method: 'GET', path: '/api/calibration/', family: 'live', auth: 'admin' },
  { method: 'POST', path: '/api/calibration/', family: 'live', auth: 'admin', body: () => ({ device_id: 'fuzz-device', baseline_angle: 10 }) },
  { method: 'POST', path: '/api/device_metrics/', family: 'live', auth: 'none', body: () => ({ device_id: 'fuzz-device', battery_level: 50, fps: 30 }) },
  { method: 'GET', path: '/ws/posture/', family: 'live', auth: 'none', query: ['token'] },
];

/** A fresh access token, so a fuzzed logout revokes only itself. */
async function accessToken(userId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setJti(randomUUID())
    .setIssuer('postura').setAudience('postura:access').setIssuedAt(now).setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

interface Attempt {
  params?: Params;
  query?: string;
  payload?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Sends one request to a route and checks the properties every answer must have. */
async function attempt(route: RouteCase, what: string, overrides: Attempt): Promise<void> {
  const params = overrides.params ?? (await route.params?.()) ?? {};
  const url = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => params[name] ?? 'x') + (overrides.query ?? '');
  const headers: Record<string, string> = { ...route.headers };
  if (route.auth === 'admin') headers.authorization = `Bearer ${await accessToken(admin.id)}`;
  Object.assign(headers, overrides.headers);
  let payload = overrides.payload;
  if (payload === undefined && route.body) payload = JSON.stringify(route.body());
  if (payload !== undefined) headers['content-type'] = overrides.contentType ?? 'application/json';
  const before = await storedState(t.database, storageRoot);
  const response = await t.app.inject({ method: route.method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const label = `${route.method} ${route.path} ${what}`;
  if (route.method === 'HEAD') expect(response.statusCode, label).toBeLessThan(500);
  else expectNoServerError(response, route.family, label);
  if (response.statusCode >= 400) {
    const change = stateChange(before, await storedState(t.database, storageRoot));
    if (route.freesOnRefusal) {
      expect(change.added, `${label} → ${response.statusCode} stored something`).toEqual([]);
      expect(Object.values(change.rows).every((d) => d <= 0), `${label} → ${response.statusCode} added rows`).toBe(true);
    } else {
      expect(change, `${label} → ${response.statusCode} changed what is stored`).toEqual(NO_CHANGE);
    }
  }
}

const name = (route: RouteCase) => `${route.method} ${route.path}`;

/** The fields of a JSON object down to `depth` levels, as key paths (arrays count as leaves). */
function leafPaths(value: Record<string, unknown>, depth = 2, prefix: string[] = []): string[][] {
  return Object.entries(value).flatMap(([key, inner]) => (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && depth > 1
    ? [[...prefix, key], ...leafPaths(inner as Record<string, unknown>, depth - 1, [...prefix, key])]
    : [[...prefix, key]]));
}

function withValueAt(body: Record<string, unknown>, keys: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let node = copy;
  keys.slice(0, -1).forEach((key) => (node = node[key] as Record<string, unknown>));
  node[keys.at(-1)!] = value;
  return copy;
}

const RAW_MARKER = '<raw json>';

/** The body as JSON text with `raw` JSON text (say, nesting too deep to build as a value) at `keys`. */
function withRawAt(body: Record<string, unknown>, keys: string[], raw: string): string {
  return JSON.stringify(withValueAt(body, keys, RAW_MARKER)).replace(JSON.stringify(RAW_MARKER), raw);
}

type Poison = (body: Record<string, unknown>, keys: string[]) => string;
const value = (v: unknown): Poison => (body, keys) => JSON.stringify(withValueAt(body, keys, v));

/**
 * Values that each broke a route once (a 500), put in every field in turn rather than left to chance: NUL and an
 * unpaired surrogate (the database refuses both), nesting deep enough to overflow a recursive serializer, a date
 * past year 9999, and numbers beyond what a column holds.
 */
const POISONS: ReadonlyArray<[string, Poison]> = [
  ['NUL', value('a\u0000b')], ['unpaired surrogate', value('x\ud800y')], ['NUL key', value({ 'k\u0000': 'v', '\ud800': 1 })],
  ['deep', (body, keys) => withRawAt(body, keys, '['.repeat(20_000) + ']'.repeat(20_000))],
  ['year 275760', value('+275760-09-13T00:00:00.000Z')], ['max date', value(8.64e15)], ['huge number', value(1e308)],
  ['wrong type', value({ a: [1] })],
];
const OTHER_CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=x',
  'application/xml', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/octet-stream'];

/** Bodies near a valid one: one field replaced by anything, wrong types, broken JSON, deep nesting, other types. */
function bodiesFor(valid: Record<string, unknown>): fc.Arbitrary<{ payload: string; contentType?: string }> {
  const paths = [...leafPaths(valid), ['fuzz_extra']];
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...paths), fc.oneof(nastyString, nastyJson)).map(([keys, value]) => ({ payload: JSON.stringify(withValueAt(valid, keys, value)) })) },
    { weight: 2, arbitrary: nastyJson.map((value) => ({ payload: JSON.stringify(value) ?? 'null' })) },
    { weight: 2, arbitrary: malformedJson.map((payload) => ({ payload })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...paths), deeplyNested).map(([keys, deep]) => ({ payload: withRawAt(valid, keys, deep) })) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_CONTENT_TYPES).map((contentType) => ({ payload: JSON.stringify(valid), contentType })) },
    { weight: 1, arbitrary: fc.constant({ payload: JSON.stringify({ ...valid, padding: 'x'.repeat(1_100_000) }) }) },
  );
}

beforeAll(async () => {
  storageRoot = await mkdtemp(path.join(os.tmpdir(), 'postura-fuzz-'));
  t = await createTestApp({
    uploads: { webhookSecret: WEBHOOK_SECRET },
    auth: { ipAttempts: 1_000_000, emailAttempts: 1_000_000, ipAttemptCeiling: 1_000_000 },
    // The fuzz opens a fresh live session per case: the open-session ceilings have their own tests.
    liveLimits: { openSessionsPerUser: 1_000_000, openSessionsPerIp: 1_000_000 },
  }, { storageRoot });
  [user, admin] = await Promise.all([newUser(t.app), newUser(t.app)]);
  await createUsersRepository(t.database.db).setAdmin(admin.id, true);
  // One real (pending: no workers in this app) analysis, so id routes also meet an id that exists.
  const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  const { payload, headers } = multipart([{ name: 'session_id', value: 'fz_keep' }, { name: 'front', filename: 'me.jpg', content: jpg }]);
  const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(upload.statusCode).toBe(201);
  analysisId = upload.json().analysis_id as string;
});
afterAll(async () => {
  await t?.close();
  await rm(storageRoot, { recursive: true, force: true });
});
afterEach(async () => {
  await expectHealthy(t.app);
});

describe('fuzz: every HTTP route', () => {
  it('the route table covers every route of the OpenAPI document', async () => {
    const document = (await t.app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths)
      .flatMap(([p, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${p}`));
    const covered = new Set(ROUTES.map(name));
    expect(documented.filter((route) => !covered.has(route))).toEqual([]);
    expect(documented.length).toBeGreaterThan(35);
  });

  for (const route of ROUTES.filter((r) => r.path.includes('{'))) {
    it(`${name(route)}: hostile path ids`, async () => {
      const good = await route.params!();
      await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(good)), nastyPathSegment, async (param, segment) => {
        await attempt(route, `[${param}=${segment.slice(0, 60)}]`, { params: { ...good, [param]: segment } });
      }), fuzzParams(8));
    });
  }

  for (const route of ROUTES.filter((r) => r.body)) {
    it(`${name(route)}: every field × every poison`, async () => {
      for (const keys of [...leafPaths(route.body!()), ['fuzz_extra']]) {
        for (const [poison, payload] of POISONS) {
          await attempt(route, `${keys.join('.')}=${poison}`, { payload: payload(route.body!(), keys) });
        }
      }
    });

    it(`${name(route)}: random hostile bodies`, async () => {
      await fc.assert(fc.asyncProperty(bodiesFor(route.body!()), async ({ payload, contentType }) => {
        await attempt(route, `body ${payload.slice(0, 80)} (${contentType ?? 'json'})`, { payload, contentType });
      }), fuzzParams(10));
    });
  }

  for (const route of ROUTES.filter((r) => r.query)) {
    it(`${name(route)}: hostile query strings`, async () => {
      await fc.assert(fc.asyncProperty(nastyQuery(route.query!), async (query) => {
        await attempt(route, `query ${query.slice(0, 80)}`, { query });
      }), fuzzParams(8));
    });
  }

  it('keypoints with extreme coordinates and confidences are scored or refused, never a 500', async () => {
    const score = ROUTES.find((r) => r.path === '/api/posture/score')!;
    const event = ROUTES.find((r) => r.path === '/api/sessions/{id}/event/')!;
    const number = fc.oneof(nastyNumber, fc.double({ min: -2000, max: 2000, noNaN: true }));
    // Confidences stay valid (0 to 1, edges included) so the extreme coordinates reach the geometry.
    const triple = fc.tuple(number, number, fc.oneof(fc.constantFrom(0, 1, 5e-324, 0.3, 0.2999999), fc.double({ min: 0, max: 1, noNaN: true })));
    const names = ['nose', 'left_shoulder', 'right_shoulder', 'left_hip', 'right_hip', 'left_knee', 'right_ankle'];
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.array(triple, { minLength: 17, maxLength: 17 }), fc.array(triple, { minLength: 133, maxLength: 133 })),
      fc.constantFrom('front', 'left', 'right', 'back', 'auto'), fc.constantFrom('stance', 'upright'),
      fc.tuple(...names.map(() => triple)),
      async (list, view, profile, named) => {
        await attempt(score, `keypoints ${JSON.stringify(list.slice(0, 3))}`, { payload: JSON.stringify({ keypoints: list, view, profile }) });
        const keypoints = Object.fromEntries(names.map((n, i) => [n, { x: named[i]![0], y: named[i]![1], confidence: named[i]![2] }]));
        await attempt(event, `keypoints ${JSON.stringify(keypoints).slice(0, 80)}`, { payload: JSON.stringify({ keypoints }) });
      },
    ), fuzzParams(25));
  });

  it('hostile credentials on every authenticated route are refused in the family shape', async () => {
    const authenticated = ROUTES.filter((r) => r.auth === 'admin');
    const credentials = fc.oneof(
      nastyString.map((token) => ({ authorization: `Bearer ${token.replace(/[\r\n]/g, '')}` })),
      fc.constantFrom('Bearer', 'Basic dXNlcjpwYXNz', 'Token', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        `Bearer ${'a'.repeat(20_000)}`).map((authorization) => ({ authorization })),
      nastyString.map((token) => ({ cookie: `access_token_cookie=${percentEncode(token)}` })),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...authenticated), credentials, async (route, headers) => {
      const anonymous = { ...route, auth: 'none' as const };
      await attempt(anonymous, `credentials ${JSON.stringify(headers).slice(0, 80)}`, { headers });
    }), fuzzParams(40));
  });

  it('unknown paths and methods answer in the family of their prefix', async () => {
    const prefixes: Array<[string, Family]> = [
      ['/api/sessions/', 'live'], ['/api/auth/', 'live'], ['/api/calibration/', 'live'], ['/api/device_metrics/', 'live'],
      ['/api/users/me/sessions/', 'live'], ['/ws/posture/', 'live'], ['/api/', 'studio'], ['/auth/', 'studio'], ['/files/', 'studio'], ['/', 'studio'],
    ];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...prefixes), nastyPathSegment, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      async ([prefix, family], segment, method) => {
        const url = `${prefix}${segment}/`;
        const response = await t.app.inject({ method: method as Method, url });
        expectNoServerError(response, family, `${method} ${url.slice(0, 80)}`);
      },
    ), fuzzParams(40));
  });
});

describe('regressions found by the fuzz', () => {
  it('a URL with broken percent-encoding is a 400 in the family shape (was Fastify\'s own body and code)', async () => {
    for (const [url, family] of [['/api/analysis/%zz', 'studio'], ['/files/%E2%82', 'studio'], ['/api/sessions/%zz/events/', 'live']] as const) {
      const response = await t.app.inject({ url, headers: bearer(admin.token) });
      expect(response.statusCode, url).toBe(400);
      expectNoServerError(response, family, url);
      expect(response.json().code).toBe('invalid_request');
    }
  });

  it('numbers beyond a column in query strings are a 400, not a 500', async () => {
    const session = (await freshSession()).id;
    for (const url of ['/api/analysis/list?limit=1e400', `/api/sessions/${session}/events/?after_id=1e%2B308`,
      '/api/users/me/sessions/?offset=1e300', '/api/users/me/sessions/?limit=5&offset=99999999999999999999']) {
      const response = await t.app.inject({ url, headers: bearer(admin.token) });
      expect(response.statusCode, `${url} ${response.body}`).toBe(400);
    }
  });

  it('a huge session total is refused, so the user\'s session list cannot be broken by it (was Infinity stored, then 500s)', async () => {
    const owner = await newUser(t.app);
    const session = (await t.app.inject({ method: 'POST', url: '/api/sessions/start/', headers: bearer(owner.token), payload: {} })).json().session_id as string;
    const end = await t.app.inject({ method: 'POST', url: `/api/sessions/${session}/end/`, payload: { total_seconds: 1e308 } });
    expect(end.statusCode).toBe(400);
    expectNoServerError(end, 'live', 'end with 1e308');
    const list = await t.app.inject({ url: '/api/users/me/sessions/', headers: bearer(owner.token) });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([expect.objectContaining({ id: session, ended: false })]);
  });

  it('a plain GET on a WebSocket endpoint is a 400 in the family shape (/ws/analysis answered an empty 404)', async () => {
    for (const [url, family] of [['/ws/analysis', 'studio'], ['/ws/posture/', 'live']] as const) {
      const response = await t.app.inject({ url });
      expect(response.statusCode, url).toBe(400);
      expectNoServerError(response, family, url);
    }
  });
});
