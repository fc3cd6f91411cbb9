import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePoseEstimator } from '../../src/pose/pose-estimator.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import {
  curlCommands, formDataExamples, httpExamples, readSeed, SEEDS_DIR, STUDIO_SEED, type HttpExample,
} from './seed-examples.ts';

/**
 * The studio family's clients as they are: the documented examples replayed as written (bodies byte for byte), and
 * the calls of the real web client (cookie auth from another origin, files before fields, a bare list). Everything
 * goes over a real socket with fetch and FormData, as a browser sends it.
 */
const seed = readSeed(STUDIO_SEED);
if (!seed) console.warn(`studio compatibility suite skipped: the studio document is not in ${SEEDS_DIR}`);

const WEB_ORIGIN = 'http://localhost:5173';
let jpg: Buffer;
let mp4: Buffer;

beforeAll(async () => {
  [jpg, mp4] = await Promise.all([readFile('test/fixtures/coco_000000000785.jpg'), readFile('test/fixtures/sports2d_demo.mp4')]);
});

interface Served {
  t: TestApp;
  base: string;
  /** fetch against the server; JSON bodies parsed, signed URLs of the disk store reachable through `media`. */
  call(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any }>;
  media(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

async function serve(env: Parameters<typeof createTestApp>[0]): Promise<Served> {
  const t = await createTestApp(env, { estimator: new FakePoseEstimator() });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  return {
    t, base,
    async call(path, init = {}) {
      const response = await fetch(base + path, init);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      return { status: response.status, headers: response.headers, body };
    },
    media(url, init) {
      const { pathname, search } = new URL(url);
      return fetch(base + pathname + search, init);
    },
    close: () => t.close(),
  };
}

/** An ```http example as written, with its placeholders filled in. */
function request(example: HttpExample, fill: Record<string, string> = {}): [string, RequestInit] {
  const sub = (text: string) => text.replace(/<(\w+)>/g, (whole, name: string) => fill[name] ?? whole);
  return [sub(example.path), {
    method: example.method,
    headers: Object.fromEntries(Object.entries(example.headers).map(([k, v]) => [k, sub(v)])),
    ...(example.body === null ? {} : { body: example.body }),
  }];
}

async function waitUntil(served: Served, id: string, auth: Record<string, string>, statuses: string[]): Promise<any> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { body } = await served.call(`/api/analysis/${id}`, { headers: auth });
    if (statuses.includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`analysis ${id} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(!seed)('the studio document, replayed as written', () => {
  let s: Served;
  const examples = seed ? httpExamples(seed) : [];
  const example = (heading: string) => {
    const found = examples.find((e) => e.heading === heading);
    if (!found) throw new Error(`no example "${heading}" in the studio document`);
    return found;
  };
  let token = '';

  beforeAll(async () => {
    s = await serve({});
  });
  afterAll(async () => s?.close());

  it('registers, logs in and reads the profile with the documented bodies', async () => {
    const registered = await s.call(...request(example('Register User')));
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ message: 'User registered successfully', name: 'John Doe' });
    const login = await s.call(...request(example('Login')));
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ message: 'Login successful', user: { email: 'user@example.com', name: 'John Doe' } });
    token = login.body.access_token;
    const profile = await s.call(...request(example('Get Profile'), { jwt_token: token }));
    expect(profile.status).toBe(200);
    expect(profile.body.user.email).toBe('user@example.com');
  });

  it('takes the JavaScript upload examples, files first, and deletes a session as documented', async () => {
    const [single, multi] = formDataExamples(seed!);
    expect(single!.parts.map((p) => p.name)).toEqual(['left', 'session_id', 'model']);
    const send = (parts: NonNullable<typeof single>['parts']) => {
      const form = new FormData();
      for (const part of parts) {
        if ('value' in part) form.append(part.name, part.value);
        else form.append(part.name, new Blob([jpg], { type: 'image/jpeg' }), `${part.name}_view.jpg`);
      }
      return s.call('/api/video/upload', { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    };
    const one = await send(single!.parts);
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ session_id: 'session_123', model: 'cx', views_uploaded: ['left'] });
    expect(one.body.uploaded_files.left).toMatchObject({
      filename: 'cx_left.jpg', original_filename: 'left_view.jpg', model: 'cx', view: 'left', file_type: 'image',
    });
    // Both examples use session_123: the documented multiview delete frees it for the second.
    const freed = await s.call(...request(example('Delete Multi-view Session'), { jwt_token: token }));
    expect(freed.status).toBe(200);
    const four = await send(multi!.parts);
    expect(four.status).toBe(201);
    expect(four.body.views_uploaded.sort()).toEqual(['back', 'front', 'left', 'right']);
    expect(four.body.message).toBe('All files uploaded successfully. 4 files uploaded. Analysis will begin automatically.');
  });

  it('answers the curl uploads: a missing session_id and an unknown model are 400 and keep nothing', async () => {
    const curls = curlCommands(seed!).filter((c) => c.url.endsWith('/api/video/upload'));
    const withModel = (model: string) => curls.find((c) => c.form.some((f) => f.name === 'model' && f.value === model))!;
    const form = (command: ReturnType<typeof withModel>, extra: Record<string, string> = {}) => {
      const body = new FormData();
      for (const field of command.form) {
        if (field.value.startsWith('@')) body.append(field.name, new Blob([mp4], { type: 'video/mp4' }), field.value.slice(1));
        else body.append(field.name, field.value);
      }
      for (const [name, value] of Object.entries(extra)) body.append(name, value);
      return body;
    };
    const auth = { authorization: `Bearer ${token}` };
    const before = (await s.call('/api/analysis/list', { headers: auth })).body.analyses.length;

    const noSession = await s.call('/api/video/upload', { method: 'POST', body: form(withModel('cx')), headers: auth });
    expect(noSession.status).toBe(400);
    expect(noSession.body.error).toMatch(/session_id/);
    expect(noSession.body.error).toBe('Missing session_id');
    expect(noSession.body.message).toMatch(/add a session_id field .* naming this upload/); // says what to do (a deviation)

    const unknown = await s.call('/api/video/upload', { method: 'POST', body: form(withModel('your_model'), { session_id: 'curl_1' }), headers: auth });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("Invalid model: your_model. Available models: ['cx', 'gy']");
    expect(unknown.body.available_models).toEqual(['cx', 'gy']);
    expect((await s.call('/api/analysis/list', { headers: auth })).body.analyses.length).toBe(before);
    const userId = (await s.call('/auth/profile', { headers: auth })).body.user.id;
    expect(await s.t.store.list(`videos/${userId}/curl_1/`)).toEqual([]);

    // With a session id the single upload is stored as model_originalfilename.ext, the name the delete example uses.
    const stored = await s.call('/api/video/upload', { method: 'POST', body: form(withModel('cx'), { session_id: 'curl_2' }), headers: auth });
    expect(stored.status).toBe(201);
    expect(Object.values(stored.body.uploaded_files).map((f: any) => f.filename)).toEqual(['cx_video.mp4']);
    const deleted = await s.call(...request(example('Delete Files'), { jwt_token: token }));
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted_files).toEqual(['cx_video.mp4']);
    expect(await s.t.store.list(`videos/${userId}/curl_2/`)).toEqual([]);
  });

  it('lists, shows and deletes analyses in the documented shapes', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const list = await s.call(...request(example('List User Analyses'), { jwt_token: token }));
    expect(list.status).toBe(200);
    expect(list.body.analyses).toHaveLength(1);
    const [item] = list.body.analyses;
    expect(item).toMatchObject({ id: expect.any(String), user_id: expect.any(String), filename: expect.any(String), status: expect.any(String), created_at: expect.any(String) });
    expect(item).toHaveProperty('feedback');
    expect(Object.keys(item.uploads).sort()).toEqual(['back', 'front', 'left', 'right']);

    const done = await waitUntil(s, item.id, auth, ['completed']);
    const detail = await s.call(...request(example('Get Analysis Details'), { jwt_token: token, analysis_id: item.id }));
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: item.id, user_id: item.user_id, filename: item.filename, status: 'completed', feedback: done.feedback });
    expect(JSON.parse(detail.body.posture_result)).toHaveProperty('front');
    expect((await s.call('/api/analysis/list', { headers: auth })).body.analyses[0].feedback).toBe(done.feedback);

    const removed = await s.call(...request(example('Delete Analysis'), { jwt_token: token, analysis_id: item.id }));
    expect(removed.status).toBe(200);
    expect((await s.call('/api/analysis/list', { headers: auth })).body.analyses).toEqual([]);
  });

  it('logs out as documented (no body), and the token is refused afterwards', async () => {
    const out = await s.call(...request(example('Logout'), { jwt_token: token }));
    expect(out.status).toBe(200);
    expect(out.body.message).toBe('Logged out successfully');
    expect((await s.call(...request(example('Get Profile'), { jwt_token: token }))).status).toBe(401);
  });
});

describe('the studio web client (cookie auth from another origin, ANALYSIS_LIST_SHAPE=array)', () => {
  let s: Served;
  let cookie = '';
  let userId = '';
  /** What axios with `withCredentials` sends from the client's origin. */
  const browser = (init: RequestInit = {}): RequestInit => ({
    ...init, headers: { origin: WEB_ORIGIN, ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string> | undefined) },
  });
  const json = (method: string, body?: unknown): RequestInit =>
    browser({ method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  beforeAll(async () => {
    s = await serve({ auth: { allowedOrigins: [WEB_ORIGIN] }, studio: { analysisListShape: 'array' } });
  });
  afterAll(async () => s?.close());

  it('registers and logs in across origins with a cookie', async () => {
    const preflight = await fetch(`${s.base}/auth/login`, {
      method: 'OPTIONS', headers: { origin: WEB_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const credentials = { email: 'web@example.com', password: 'web client pass', name: 'Web' };
    const registered = await s.call('/auth/register', json('POST', credentials));
    expect(registered.status).toBe(201);
    expect(registered.body.user.email).toBe(credentials.email);
    expect(registered.body.token).toEqual(expect.any(String));
    expect((await s.call('/auth/register', json('POST', credentials))).status).toBe(409);
    const login = await fetch(`${s.base}/auth/login`, json('POST', { email: credentials.email, password: credentials.password }));
    expect(login.status).toBe(200);
    cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('access_token_cookie='))!;
    expect(cookie).toBeDefined();
    const profile = await s.call('/auth/profile', browser());
    expect(profile.status).toBe(200);
    userId = profile.body.user.id;
  });

  it('uploads files first, lists a bare array with uploads, shows the detail and embeds the media', async () => {
    const form = new FormData();
    form.append('front', new Blob([jpg], { type: 'image/jpeg' }), 'me_front.jpg');
    form.append('session_id', 'web_1');
    form.append('model', 'gy');
    const upload = await s.call('/api/video/upload', browser({ method: 'POST', body: form }));
    expect(upload.status).toBe(201);
    expect(upload.body.model).toBe('gy');

    const list = await s.call('/api/analysis/list', browser());
    expect(Array.isArray(list.body)).toBe(true);
    expect(list.body[0]).toMatchObject({ session_id: 'web_1', model_name: 'gy', filename: 'me_front.jpg' });
    expect(Object.keys(list.body[0].uploads)).toEqual(['front']);
    const trainee = await s.call(`/api/analysis/list/${userId}`, browser());
    expect(Array.isArray(trainee.body)).toBe(true);
    expect(trainee.body.map((a: { id: string }) => a.id)).toEqual(list.body.map((a: { id: string }) => a.id));

    const id = list.body[0].id;
    const detail = await waitUntil(s, id, { origin: WEB_ORIGIN, cookie }, ['completed']);
    const detailed: any = await (await s.media(detail.analysis_json_urls.front, { headers: { origin: WEB_ORIGIN } })).json();
    expect(detailed.aggregated_results).toHaveProperty('measurements');
    expect(detail.feedback_json_url).toEqual(expect.any(String));

    // <img>/<video> on the client's origin load the signed media: embeddable, still not runnable as a page.
    const media = await s.media(detail.uploads.front, { headers: { origin: WEB_ORIGIN, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' } });
    expect(media.status).toBe(200);
    expect(media.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(media.headers.get('content-security-policy')).toContain('sandbox');
    expect(media.headers.get('x-content-type-options')).toBe('nosniff');

    const report = await s.call(`/api/analysis/report/${id}`, browser());
    const pdf = Buffer.from(await (await s.media(report.body.url)).arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

    const user = await s.call('/api/user', browser());
    expect(user.body.user.total_analyses).toBe(1);
    expect(user.body.user.average_overall_score).toBeCloseTo(detail.overall_score / 100, 4);
    expect(user.body.user.average_overall_score).toBeLessThanOrEqual(1);

    const retried = await s.call(`/api/analysis/retry/${id}`, json('POST', { model: 'cx' }));
    expect(retried.status).toBe(200);
    expect(retried.body.analysis.model_name).toBe('cx');
    await waitUntil(s, id, { origin: WEB_ORIGIN, cookie }, ['completed']);
  });

  it('reads, regenerates and (as the owner) reads by user id the weekly insights', async () => {
    for (const [path, init] of [
      ['/api/analysis/summary', browser()],
      ['/api/analysis/summary/retry', browser({ method: 'POST', headers: { 'content-type': 'application/json' } })],
      [`/api/analysis/summary/${userId}`, browser()],
    ] as const) {
      const summary = await s.call(path, init);
      expect(summary.status, path).toBe(200);
      expect(summary.body).toMatchObject({ status: 'completed', model_name: expect.any(String), date_generated: expect.any(String) });
      expect(summary.body.insights.length).toBeGreaterThan(0);
      expect(summary.body.weeks.at(-1).analyses).toBe(1);
    }
    expect((await s.call('/api/analysis/summary/00000000-0000-4000-8000-000000000000', browser())).status).toBe(404);
  });

  it('gets a ws token, a clear 501 for the messaging bot link, and error bodies with a message', async () => {
    const ws = await s.call('/auth/ws-token', browser());
    expect(ws.body.ws_token).toEqual(expect.any(String));
    const tele = await s.call('/auth/gen-tele-link', browser());
    expect(tele.status).toBe(501);
    expect(tele.body.message).toMatch(/not available/i);
    const missing = await s.call('/api/analysis/00000000-0000-4000-8000-000000000000', browser());
    expect(missing.status).toBe(404);
    expect(missing.body.message).toEqual(expect.any(String));
    expect(missing.body.message.length).toBeGreaterThan(0);
  });

  it('deletes the analysis, then logs out with an empty JSON body', async () => {
    const [item] = (await s.call('/api/analysis/list', browser())).body;
    expect((await s.call(`/api/analysis/${item.id}`, browser({ method: 'DELETE' }))).status).toBe(200);
    expect((await s.call('/api/analysis/list', browser())).body).toEqual([]);
    const out = await s.call('/auth/logout', json('POST'));
    expect(out.status).toBe(200);
    expect((await s.call('/auth/profile', browser())).status).toBe(401);
  });
});
