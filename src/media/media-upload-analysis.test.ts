// The job reads each file by the key the upload recorded: a lone `file` named after the client's file, with the
// fields sent after it as the documented clients do, must be found and analysed like any view.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';
import { FakePoseEstimator } from '../pose/pose-estimator.ts';

let t: TestApp;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp({ jobs: { concurrency: 1 } }, { estimator: new FakePoseEstimator(['cx', 'gy']) });
  user = await newUser(t.app);
}, 60_000);
afterAll(async () => {
  await t.close();
});

it('analyses a lone file stored under its own name, sent before its fields', async () => {
  const { payload, headers } = multipart([
    { name: 'file', filename: 'skier on the slope.jpeg', content: await readFile('test/fixtures/coco_000000000785.jpg') },
    { name: 'session_id', value: 'files_first' }, { name: 'model', value: 'gy' },
  ]);
  const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(upload.statusCode, upload.body).toBe(201);
  expect(upload.json().uploaded_files.auto.filename).toBe('gy_skier_on_the_slope.jpg');
  const done = await waitForAnalysis(t.app, user.token, upload.json().analysis_id as string, ['completed', 'failed'], 60_000);
  expect(done, String(done.error)).toMatchObject({ status: 'completed', model_name: 'gy' });
});
