import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePoseEstimator } from '../pose/pose-estimator.ts';
import { startSession } from '../live/live.test-helper.ts';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import { multipart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { estimator: new FakePoseEstimator() });
});
afterAll(async () => {
  await t.close();
});

/** What browsers and fetch wrappers send on a call with no body: the JSON content type, and nothing after it. */
const emptyJson = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: '', headers: { 'content-type': 'application/json', ...headers } });

describe('an empty body with Content-Type: application/json', () => {
  it('is no body on POST /auth/logout', async () => {
    const user = await newUser(t.app);
    const response = await emptyJson('/auth/logout', bearer(user.token));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ message: 'Logged out successfully' });
  });

  it('is no body on POST /api/sessions/:id/end/', async () => {
    const sessionId = await startSession(t.app);
    const response = await emptyJson(`/api/sessions/${sessionId}/end/`, { 'content-type': 'application/json; charset=utf-8' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ session_id: sessionId, ended: true });
  });

  it('is no body on POST /api/analysis/retry/:id', async () => {
    const user = await newUser(t.app);
    const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
    const { payload, headers } = multipart([
      { name: 'session_id', value: 'empty_body_retry' }, { name: 'front', filename: 'f.jpg', content: jpg },
    ]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(upload.statusCode, upload.body).toBe(201);
    const id = upload.json().analysis_id as string;
    await waitForAnalysis(t.app, user.token, id, ['completed', 'failed'], 60_000);
    const response = await emptyJson(`/api/analysis/retry/${id}`, bearer(user.token));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().analysis).toMatchObject({ id, status: 'pending' });
  }, 90_000);

  it('is still refused, with a message that says so, where the route needs a body', async () => {
    for (const url of ['/auth/login', '/api/auth/login/']) {
      const response = await emptyJson(url);
      expect(response.statusCode, url).toBe(400);
      expect(JSON.stringify(response.json()), url).toMatch(/Request body is missing/);
    }
    for (const url of ['/auth/login', '/api/auth/login/']) {
      const response = await t.app.inject({ method: 'POST', url, payload: ' \r\n', headers: { 'content-type': 'application/json' } });
      expect(response.statusCode, url).toBe(400);
      expect(JSON.stringify(response.json()), url).toMatch(/Request body is missing/);
    }
    expect((await emptyJson('/auth/login')).json()).toEqual({
      error: 'Request body is missing: this route needs a JSON object',
      message: 'Request body is missing: this route needs a JSON object',
      code: 'invalid_request',
    });
  });
});

describe('the JSON parser keeps the default protections', () => {
  const postJson = (payload: string) =>
    t.app.inject({ method: 'POST', url: '/auth/login', payload, headers: { 'content-type': 'application/json' } });

  it('refuses malformed JSON and prototype poisoning with 400', async () => {
    expect((await postJson('{"email":')).json()).toMatchObject({ error: 'Request body is not valid JSON' });
    for (const poisoned of [
      '{"email":"a@b.co","password":"x","__proto__":{"isAdmin":true}}',
      '{"email":"a@b.co","password":"x","constructor":{"prototype":{"isAdmin":true}}}',
    ]) {
      const response = await postJson(poisoned);
      expect(response.statusCode, poisoned).toBe(400);
      expect(response.json().code).toBe('invalid_request');
    }
  });

  it('refuses a body over the size limit with 413', async () => {
    const response = await postJson(JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(1_100_000) }));
    expect(response.statusCode).toBe(413);
  });
});
