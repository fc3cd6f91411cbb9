import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRevocationsRepository } from '../../src/auth/revocations.repository.ts';
import { TokenService } from '../../src/auth/token.service.ts';
import { createEstimator } from '../../src/cli/inference.ts';
import { queueOptions } from '../../src/infra/adapters.ts';
import type { PoseEstimator } from '../../src/pose/pose-estimator.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { Gate, startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.ts';
import { multipart } from '../helpers/multipart.ts';
import { freeLocalPort } from '../helpers/postura-process.ts';
import { createTestApp, TEST_JWT_SECRET, testConfig, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
let t: TestApp;
let user: TestUser;
let remote: PoseEstimator;
let tokens: TokenService;
/** Where the app's analyses send every model's frames (MODEL_SERVER_URLS); each test decides whether anyone listens. */
let port: number;
const servers: FakeModelServer[] = [];

beforeAll(async () => {
  port = await freeLocalPort();
  // The estimator is the production wiring (createEstimator: single-use service ws tokens), but it needs the app's
  // database for those tokens, and the app needs an estimator: it is bound once both exist.
  const estimator: PoseEstimator = {
    models: () => ['cx', 'gy'],
    estimate: (image, opts) => remote.estimate(image, opts),
    people: (image, opts) => remote.people(image, opts),
    close: () => remote.close(),
  };
  // Two retries, 1-2 s then 2-4 s after a failure (exponential backoff).
  t = await createTestApp({ jobs: { retryLimit: 2, retryDelaySeconds: 1 } }, { estimator });
  const url = `ws://127.0.0.1:${port}`;
  remote = createEstimator(testConfig({ modelServers: { cx: url, gy: url } }), TEST_JWT_SECRET, t.database);
  tokens = new TokenService({ secret: TEST_JWT_SECRET, revocations: createRevocationsRepository(t.database.db), wsTokenTtlSeconds: 300 });
  user = await newUser(t.app);
}, 60_000);
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});
afterAll(async () => {
  await t?.close();
  await remote?.close();
});

/** A model server on the app's port that checks and burns the service tokens, as `postura model-server` does. */
async function startModels(options: { beforeEstimate?: () => Promise<void> } = {}): Promise<FakeModelServer> {
  const server = await startFakeModelServer({ port, verifyWsToken: (token) => tokens.consumeWsToken(token), ...options });
  servers.push(server);
  return server;
}

async function upload(sessionId: string): Promise<string> {
  const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'front.jpg', content: jpg }]);
  const response = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(response.statusCode).toBe(201);
  return response.json().analysis_id;
}

async function attemptsOf(id: string): Promise<number> {
  const row = await t.database.db.selectFrom('analyses').select('attempts').where('id', '=', id).executeTakeFirstOrThrow();
  return row.attempts;
}

/** The queue's jobs for an analysis once none is waiting or running any more (pg-boss's own table). */
async function settledJobs(id: string): Promise<Array<{ name: string; state: string }>> {
  const { schema } = queueOptions(t.config);
  for (const deadline = Date.now() + 10_000; ;) {
    const { rows } = await t.database.withConnection((conn) => conn.query<{ name: string; state: string }>(
      `SELECT name, state FROM ${schema}.job WHERE data->>'analysisId' = $1 ORDER BY created_on`, [id]));
    if (rows.every((r) => !['created', 'retry', 'active'].includes(r.state))) return rows;
    expect(Date.now()).toBeLessThan(deadline);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the model server down, then up again', () => {
  it('fails an analysis sent while it is down with a readable reason; a retry once it is back completes', async () => {
    const id = await upload('models-down'); // nobody listens on the port: the model server is down

    const failed = await waitForAnalysis(t.app, user.token, id, ['completed', 'failed'], 30_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('model server for cx: connection failed (ECONNREFUSED)');
    expect(await attemptsOf(id)).toBe(3); // the first try and both retries, each refused
    // The row records the failure, so the job ends there: a dead letter left behind would be handled later and
    // fail whatever run the user had started by then.
    expect(await settledJobs(id)).toEqual([{ name: 'analyse-session', state: 'completed' }]);

    const models = await startModels();
    const retry = await t.app.inject({ method: 'POST', url: `/api/analysis/retry/${id}`, payload: {}, headers: bearer(user.token) });
    expect(retry.statusCode, retry.body).toBe(200);
    // Right after the failure: nothing left over from the failed run (no dead letter) may fail the new one.
    const done = await waitForAnalysis(t.app, user.token, id, ['completed', 'failed'], 30_000);
    expect(done.status, String(done.error)).toBe('completed');
    expect(done.error).toBeNull();
    expect(models.estimator.calls).toHaveLength(1);
  }, 60_000);

  it('retries an analysis whose model server died mid-frame, and completes it once the server is back', async () => {
    const gate = new Gate();
    const dying = await startModels({ beforeEstimate: () => gate.pass() });
    const id = await upload('models-died');

    await gate.reached; // a frame is in inference on the model server
    await dying.close(); // the server goes away with the frame unanswered: the socket closes under the client
    gate.open();
    // The lost frame fails the first attempt at once (no wait for the 60 s reply timeout) and the job is retried;
    // the last retry comes 2-4 s after the second attempt, long after the server below is back.
    for (const deadline = Date.now() + 20_000; (await attemptsOf(id)) < 2;) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await waitForAnalysis(t.app, user.token, id, ['in_progress', 'failed'], 1_000)).status).toBe('in_progress');

    const back = await startModels();
    const done = await waitForAnalysis(t.app, user.token, id, ['completed', 'failed'], 30_000);
    expect(done.status, String(done.error)).toBe('completed');
    // Reconnected with a fresh service token (the server burns each one), and the frame was answered there.
    expect(back.estimator.calls).toHaveLength(1);
  }, 60_000);
});
