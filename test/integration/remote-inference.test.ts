import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AuthService } from '../../src/auth/auth.service.ts';
import { argon2Hasher } from '../../src/auth/password-hasher.ts';
import { createRevocationsRepository } from '../../src/auth/revocations.repository.ts';
import { SERVICE_SUBJECT, TokenService } from '../../src/auth/token.service.ts';
import { createEstimator } from '../../src/cli/inference.ts';
import { MemoryRateLimiter } from '../../src/infra/rate-limit/memory-rate-limiter.ts';
import { startModelServer, type ModelServer } from '../../src/model-server/model-server.ts';
import { postureReply } from '../../src/model-server/posture-reply.ts';
import { FakePoseEstimator, type PoseEstimator } from '../../src/pose/pose-estimator.ts';
import { createUsersRepository } from '../../src/users/users.repository.ts';
import { bearer, newUser } from '../helpers/factories.ts';
import { multipart } from '../helpers/multipart.ts';
import { createTestApp, openTestDatabase, TEST_JWT_SECRET, testConfig, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';
import { migrate } from '../../src/infra/db/migrator.ts';

let db: Awaited<ReturnType<typeof openTestDatabase>>;
let server: ModelServer;
let remoteModel: FakePoseEstimator;
let estimator: PoseEstimator;
let t: TestApp;
let tokens: TokenService;

beforeAll(async () => {
  db = await openTestDatabase();
  await migrate(db.database);
  tokens = new TokenService({ secret: TEST_JWT_SECRET, revocations: createRevocationsRepository(db.database.db), wsTokenTtlSeconds: 300 });
  const auth = new AuthService({
    users: createUsersRepository(db.database.db), tokens, hasher: argon2Hasher, limiter: new MemoryRateLimiter(),
    limits: { ipAttempts: 100, emailAttempts: 100, ipAttemptCeiling: 100, attemptWindowSeconds: 60 },
  });
  remoteModel = new FakePoseEstimator(['cx']);
  server = await startModelServer({
    estimator: remoteModel, models: ['cx'], port: 0, host: '127.0.0.1',
    verifyWsToken: (token) => auth.authenticateModelClient(token), scoreKeypoints: (kps, view) => postureReply(kps, view),
  });
  // cx goes to the model server; gy would stay in this process.
  estimator = createEstimator(testConfig({ modelServers: { cx: server.url } }), TEST_JWT_SECRET, db.database);
  t = await createTestApp({}, { estimator });
}, 60_000);
afterAll(async () => {
  await t.close();
  await estimator.close();
  await server.close();
  await db.drop();
});

describe('analyses on a remote model server', () => {
  it('sends the frames to the model server configured for the model and completes the analysis', async () => {
    const user = await newUser(t.app);
    const { payload, headers } = multipart([
      { name: 'session_id', value: 'remote' },
      { name: 'front', filename: 'front.jpg', content: await readFile('test/fixtures/coco_000000000785.jpg') },
    ]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(upload.statusCode).toBe(201);
    const done = await waitForAnalysis(t.app, user.token, upload.json().analysis_id, ['completed', 'failed'], 60_000);
    expect(done.status).toBe('completed');
    expect(remoteModel.calls.length).toBeGreaterThan(0);
    expect(remoteModel.calls[0]).toMatchObject({ width: 640, height: 425, model: 'cx' });
  });

  it('accepts a service ws token once, and never an access token', async () => {
    const service = (await tokens.issueWsToken(SERVICE_SUBJECT)).token;
    const answer = (token: string) => new Promise<Record<string, unknown>>((resolve) => {
      const ws = new WebSocket(`${server.url}?token=${token}`);
      ws.once('message', (data) => {
        resolve(JSON.parse(String(data)));
        ws.close();
      });
      ws.once('error', () => resolve({ error: 'socket error' }));
    });
    expect(await answer(service)).toEqual({ status: 'authenticated', user_id: SERVICE_SUBJECT });
    expect(await answer(service)).toHaveProperty('error');
    const access = (await tokens.issueAccessToken(SERVICE_SUBJECT, 60)).token;
    expect(await answer(access)).toHaveProperty('error');
  });
});
