import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalysesRepository } from './analyses.repository.ts';
import { FakePoseEstimator } from '../pose/pose-estimator.ts';
import { createUsersRepository } from '../users/users.repository.ts';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';

let t: TestApp;
let owner: TestUser;
let stranger: TestUser;
let admin: TestUser;
let jpg: Buffer;
const ids: string[] = [];

async function upload(user: TestUser, sessionId: string): Promise<string> {
  const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'f.jpg', content: jpg }]);
  const response = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(response.statusCode).toBe(201);
  return response.json().analysis_id;
}

beforeAll(async () => {
  t = await createTestApp({}, { estimator: new FakePoseEstimator() });
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  [owner, stranger, admin] = await Promise.all([newUser(t.app), newUser(t.app), newUser(t.app)]);
  await createUsersRepository(t.database.db).setAdmin(admin.id, true);
  for (let i = 0; i < 3; i++) ids.push(await upload(owner, `session_${i}`));
  for (const id of ids) await waitForAnalysis(t.app, owner.token, id, ['completed'], 60_000);
}, 120_000);
afterAll(async () => {
  await t.close();
});

const get = (url: string, who: TestUser) => t.app.inject({ url, headers: bearer(who.token) });

describe('analysis listing', () => {
  it('lists newest first in pages that follow a cursor', async () => {
    const first = (await get('/api/analysis/list?limit=2', owner)).json();
    expect(first.analyses.map((a: { id: string }) => a.id)).toEqual([ids[2], ids[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await get(`/api/analysis/list?limit=2&cursor=${first.next_cursor}`, owner)).json();
    expect(second.analyses.map((a: { id: string }) => a.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect((await get('/api/analysis/list', stranger)).json().analyses).toEqual([]);
    expect((await get('/api/analysis/list?limit=0', owner)).statusCode).toBe(400);
    expect((await get('/api/analysis/list?cursor=garbage', owner)).statusCode).toBe(200);
  });
});

describe('ownership', () => {
  it('answers 404 to anyone but the owner or an admin, for reads and changes alike', async () => {
    const id = ids[0]!;
    for (const request of [
      { method: 'GET' as const, url: `/api/analysis/${id}` },
      { method: 'GET' as const, url: `/api/analysis/report/${id}` },
      { method: 'POST' as const, url: `/api/analysis/retry/${id}`, payload: {} },
      { method: 'DELETE' as const, url: `/api/analysis/${id}` },
    ]) {
      const response = await t.app.inject({ ...request, headers: bearer(stranger.token) });
      expect(response.statusCode, `${request.method} ${request.url}`).toBe(404);
      expect(response.json()).toMatchObject({ error: 'Analysis not found', code: 'not_found' });
    }
    expect((await get('/api/analysis/not-a-uuid', owner)).statusCode).toBe(404);
    expect((await get(`/api/analysis/${id}`, owner)).json().status).toBe('completed');
  });

  it('lets an admin read any user and analysis, and keeps admin lists from others', async () => {
    expect((await get(`/api/analysis/${ids[1]}`, admin)).statusCode).toBe(200);
    const users = await get('/api/users', admin);
    expect(users.statusCode).toBe(200);
    expect(users.json().users.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining([owner.id, stranger.id, admin.id]));
    const ownerStats = (await get(`/api/user/${owner.id}`, admin)).json().user;
    expect(ownerStats).toMatchObject({ id: owner.id, total_analyses: 3, current_week_analyses: 3 });
    expect((await get(`/api/analysis/list/${owner.id}`, admin)).json().analyses).toHaveLength(3);

    expect((await get('/api/users', owner)).statusCode).toBe(403);
    expect((await get(`/api/user/${owner.id}`, stranger)).statusCode).toBe(404);
    expect((await get(`/api/analysis/list/${owner.id}`, stranger)).statusCode).toBe(404);
    expect((await get(`/api/user/${owner.id}`, owner)).statusCode).toBe(200);
  });

  it("lets an admin read a trainee's weekly insights (the web client's trainee page); others get 404", async () => {
    const asAdmin = await get(`/api/analysis/summary/${owner.id}`, admin);
    expect(asAdmin.statusCode, asAdmin.body).toBe(200);
    expect(asAdmin.json()).toMatchObject({ status: 'completed', model_name: expect.any(String) });
    expect(asAdmin.json().weeks.at(-1).analyses).toBe(3);
    const { date_generated: _when, ...ownView } = (await get('/api/analysis/summary', owner)).json();
    expect(asAdmin.json()).toMatchObject(ownView);
    const asStranger = await get(`/api/analysis/summary/${owner.id}`, stranger);
    expect(asStranger.statusCode).toBe(404);
    expect(asStranger.json().message).toEqual(expect.any(String));
    // The admin's own summary is not the trainee's.
    expect((await get('/api/analysis/summary', admin)).json().weeks.at(-1).analyses).toBe(0);
  });

  it('lets an admin retry and delete an analysis of another user', async () => {
    // The body is optional (SPEC 3): a retry with none at all keeps the model.
    const retry = await t.app.inject({ method: 'POST', url: `/api/analysis/retry/${ids[1]}`, headers: bearer(admin.token) });
    expect(retry.statusCode).toBe(200);
    await waitForAnalysis(t.app, owner.token, ids[1]!, ['completed'], 60_000);
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/analysis/${ids[1]}`, headers: bearer(admin.token) });
    expect(removed.statusCode).toBe(200);
    expect((await get(`/api/analysis/${ids[1]}`, owner)).statusCode).toBe(404);
  });
});

describe('state rules', () => {
  it('refuses a retry of an analysis still pending, an unknown model, and a CSV of a bad view', async () => {
    const pendingApp = await createTestApp();
    try {
      const user = await newUser(pendingApp.app);
      const { payload, headers } = multipart([{ name: 'session_id', value: 'waiting' }, { name: 'front', filename: 'f.jpg', content: jpg }]);
      const id = (await pendingApp.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } })).json().analysis_id;
      const retry = await pendingApp.app.inject({ method: 'POST', url: `/api/analysis/retry/${id}`, payload: {}, headers: bearer(user.token) });
      expect(retry.statusCode).toBe(409);
      const report = await pendingApp.app.inject({ url: `/api/analysis/report/${id}`, headers: bearer(user.token) });
      expect(report.statusCode).toBe(409);
      for (const format of ['csv', 'trc', 'mot']) {
        const frames = await pendingApp.app.inject({ url: `/api/analysis/${id}/frames.${format}?view=front`, headers: bearer(user.token) });
        expect(frames.statusCode, format).toBe(409);
      }
    } finally {
      await pendingApp.close();
    }
    const badModel = await t.app.inject({ method: 'POST', url: `/api/analysis/retry/${ids[0]}`, payload: { model: 'zz' }, headers: bearer(owner.token) });
    expect(badModel.statusCode).toBe(400);
    expect(badModel.json().available_models).toEqual(['cx', 'gy']);
    expect((await get(`/api/analysis/${ids[0]}/frames.csv?view=top`, owner)).statusCode).toBe(400);
    expect((await get(`/api/analysis/${ids[0]}/frames.csv?view=left`, owner)).statusCode).toBe(404);
    const csv = await get(`/api/analysis/${ids[0]}/frames.csv?view=front`, owner);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.trim().split('\r\n')).toHaveLength(2);
  });
});

describe('OpenSim exports', () => {
  it('serves one view as .trc and .mot downloads named after the session, with the frames.csv rules', async () => {
    const trc = await get(`/api/analysis/${ids[0]}/frames.trc?view=front`, owner);
    expect(trc.statusCode).toBe(200);
    expect(trc.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(trc.headers['content-disposition']).toBe('attachment; filename="session_0_front.trc"');
    const [pathLine, keys, values] = trc.body.split('\n').map((line) => line.split('\t'));
    expect(pathLine!.slice(0, 4)).toEqual(['PathFileType', '4', '(X/Y/Z)', 'session_0_front.trc']);
    expect(values![keys!.indexOf('NumFrames')]).toBe('1');
    expect(values![keys!.indexOf('NumMarkers')]).toBe('17');

    const mot = await get(`/api/analysis/${ids[0]}/frames.mot?view=front`, admin);
    expect(mot.statusCode).toBe(200);
    expect(mot.headers['content-disposition']).toBe('attachment; filename="session_0_front.mot"');
    const lines = mot.body.split('\n');
    expect(lines.slice(0, 5)).toEqual(['session_0_front.mot', 'version=1', 'nRows=1', expect.stringMatching(/^nColumns=\d+$/), 'inDegrees=yes']);
    expect(lines[lines.indexOf('endheader') + 1]).toMatch(/^time(\t|$)/);

    for (const format of ['trc', 'mot']) {
      expect((await get(`/api/analysis/${ids[0]}/frames.${format}?view=top`, owner)).statusCode, format).toBe(400);
      expect((await get(`/api/analysis/${ids[0]}/frames.${format}?view=left`, owner)).statusCode, format).toBe(404);
      expect((await get(`/api/analysis/${ids[0]}/frames.${format}?view=front`, stranger)).statusCode, format).toBe(404);
      expect((await t.app.inject({ url: `/api/analysis/${ids[0]}/frames.${format}?view=front` })).statusCode, format).toBe(401);
    }
  });
});

describe('what the worker reads', () => {
  it('checks the stored bytes again: a file swapped in storage after the upload fails the retry, naming why', async () => {
    const id = await upload(owner, 'swapped');
    await waitForAnalysis(t.app, owner.token, id, ['completed'], 60_000);
    const [file] = await createAnalysesRepository(t.database.db).mediaFilesOf([id]);
    // Written behind the upload's back (a store reachable by others, a stale signed URL): a video where an image was.
    await t.store.putBuffer(file!.objectKey, await readFile('test/fixtures/sports2d_demo.mp4'), { contentType: 'image/jpeg' });
    const retried = await t.app.inject({ method: 'POST', url: `/api/analysis/retry/${id}`, payload: {}, headers: bearer(owner.token) });
    expect(retried.statusCode).toBe(200);
    const failed = await waitForAnalysis(t.app, owner.token, id, ['failed', 'completed'], 60_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/content is a video but .* was declared as an image/);
  });
});
