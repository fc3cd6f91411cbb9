import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FakePoseEstimator } from '../../src/pose/pose-estimator.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { multipart } from '../helpers/multipart.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

async function uploadTwoViews(t: TestApp, user: TestUser, sessionId: string): Promise<string> {
  const { payload, headers } = multipart([
    { name: 'session_id', value: sessionId },
    { name: 'front', filename: 'front.jpg', content: jpg },
    { name: 'back', filename: 'back.jpg', content: jpg },
  ]);
  const response = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(response.statusCode).toBe(201);
  return response.json().analysis_id;
}

describe('analysis jobs', () => {
  it('retries a failing inference with backoff, then marks the analysis failed with the reason', async () => {
    let attempts = 0;
    const estimator = new FakePoseEstimator(['cx', 'gy'], () => {
      attempts += 1;
      throw new Error('inference backend crashed');
    });
    const t = await createTestApp({ jobs: { retryLimit: 2, retryDelaySeconds: 1 } }, { estimator });
    apps.push(t);
    const user = await newUser(t.app);
    const id = await uploadTwoViews(t, user, 'flaky');
    const failed = await waitForAnalysis(t.app, user.token, id, ['failed'], 60_000);
    expect(failed.error).toMatch(/inference backend crashed/);
    // One try plus two retries, each stopping at the first view.
    expect(attempts).toBe(3);
    const row = await t.database.db.selectFrom('analyses').select(['attempts', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ attempts: 3, status: 'failed' });
  }, 90_000);

  it('analyses every view of 20 concurrent two-view sessions exactly once', async () => {
    const estimator = new FakePoseEstimator();
    // Five uploads per user at once: this test is about the queue, not the per-user upload bound.
    const t = await createTestApp({ jobs: { concurrency: 2 }, uploads: { concurrencyPerUser: 5, concurrencyTotal: 20 } }, { estimator });
    apps.push(t);
    const users = await Promise.all(Array.from({ length: 4 }, () => newUser(t.app)));
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => uploadTwoViews(t, users[i % 4]!, `load_${i}`)));
    const results = await Promise.all(ids.map((id, i) => waitForAnalysis(t.app, users[i % 4]!.token, id, ['completed', 'failed'], 120_000)));
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    // Two single-frame views per session: 40 estimations, no more (nothing ran twice), no fewer.
    expect(estimator.calls).toHaveLength(40);
    const rows = await t.database.db.selectFrom('analyses').select('attempts').execute();
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    for (const [i, result] of results.entries()) {
      expect(Object.keys(JSON.parse(result.posture_result as string)).sort(), `session ${i}`).toEqual(['back', 'front']);
    }
  }, 180_000);
});
