// Issue 13, "Also": a SIGTERM with an analysis in flight took about a minute ("shutdown took too long; exiting").
// `postura serve` and `postura worker` must exit cleanly (code 0: the forced exit answers 1) within their documented
// grace period, the analysis in hand stopped and offered again rather than dropped. Inference goes to a fake model
// server (the real protocol, a fake estimator) that takes a few ms a frame, like a real model: no real model runs,
// and the SIGTERM lands once frames are provably in inference.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPath } from '../../src/pose/ffmpeg-path.ts';
import { bearer, newUser } from '../helpers/factories.ts';
import { Gate, startFakeModelServer, type FakeModelServer } from '../helpers/fake-model-server.ts';
import { multipart } from '../helpers/multipart.ts';
import {
  apiClient, dropProcessSchemas, freeLocalPort, spawnPostura, waitUntilReady, type PosturaProcess,
} from '../helpers/postura-process.ts';
import { createTestApp, testServers } from '../helpers/test-app.ts';

/** README / docs/security-review.md: `serve` and `worker` exit within a 10 s grace period after SIGTERM. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Simulated inference time per frame: the analysis of the video below takes far longer than the test waits. */
const FRAME_MS = 15;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

let dir = '';
/** 1,500 frames of 64×64 at 30 fps, all analysed (ANALYSIS_FRAME_STEP=1): over 20 s of inference at FRAME_MS. */
let longVideo: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-shutdown-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'long.mp4');
  await promisify(execFile)(resolveFfmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=30',
    '-frames:v', '1500', '-pix_fmt', 'yuv420p', file]);
  longVideo = await readFile(file);
}, 60_000);

/** A fake model server whose `inference` resolves once it has answered `frames` frames. */
async function slowModels(frames: number): Promise<{ models: FakeModelServer; inference: Promise<void> }> {
  let seen = 0;
  let reached: () => void = () => {};
  const inference = new Promise<void>((resolve) => (reached = resolve));
  const models = await startFakeModelServer({
    beforeEstimate: async () => {
      if (++seen >= frames) reached();
      await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
    },
  });
  cleanups.push(() => models.close());
  return { models, inference };
}

/**
 * A fake model server that answers every keyframe's people and the first `frames` tracked frames, then holds the
 * next tracked frame, unanswered, until the test ends: `inference` resolves once it is held. The tracking pass waits
 * for that answer before it reads on (a frame's crop comes from an earlier answer), so only the analysis's signal
 * reaching the estimator can end the wait (the estimator's own timeout is 60 s).
 */
async function heldFrameModels(frames: number): Promise<{ models: FakeModelServer; inference: Promise<void> }> {
  const gate = new Gate();
  const models: FakeModelServer = await startFakeModelServer({
    // `estimator.calls` lists tracked frames (estimate), not keyframes (people).
    beforeEstimate: async () => {
      if (models.estimator.calls.length > frames) await gate.pass();
    },
  });
  cleanups.push(async () => {
    gate.open();
    await models.close();
  });
  return { models, inference: gate.reached };
}

/** SIGTERM; resolves with the exit code and how long the exit took (SIGKILL only well past the grace). */
async function terminate(proc: PosturaProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  await proc.stop(SHUTDOWN_GRACE_MS * 3);
  return { code: await proc.exited, ms: Date.now() - started };
}

const processEnv = (modelsUrl: string) => ({
  MODEL_SERVER_URLS: `cx=${modelsUrl},gy=${modelsUrl}`, ANALYSIS_CONCURRENCY: '1', ANALYSIS_FRAME_STEP: '1',
});

describe('a graceful stop with an analysis in flight', () => {
  const cases: Array<{ inFlight: string; startModels: () => Promise<{ models: FakeModelServer; inference: Promise<void> }> }> = [
    { inFlight: 'frames in inference', startModels: () => slowModels(20) },
    // The model server holds a frame: the estimator stops waiting for its reply on abort (not after its 60 s timeout).
    { inFlight: 'a frame held by the model server', startModels: () => heldFrameModels(20) },
  ];
  it.for(cases)('postura serve exits 0 within the grace period after SIGTERM, $inFlight', { timeout: 150_000 }, async ({ startModels }, ctx) => {
    const { models, inference } = await startModels();
    const dataDir = await mkdtemp(path.join(dir, 'serve-'));
    const schema = `t_${randomBytes(6).toString('hex')}`;
    if (testServers.databaseUrl) cleanups.push(() => dropProcessSchemas(testServers.databaseUrl!, schema));
    const port = await freeLocalPort();
    const base = `http://127.0.0.1:${port}`;
    const serve = spawnPostura('serve', {
      ...(testServers.databaseUrl ? { DATABASE_URL: testServers.databaseUrl, DATABASE_SCHEMA: schema } : {}),
      DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: base, ...processEnv(models.url),
    });
    cleanups.push(() => serve.kill9());
    ctx.onTestFailed(() => console.error(`postura serve output:\n${serve.stderr()}`));
    await waitUntilReady(base, serve);

    const api = apiClient(base);
    const register = await api('POST', '/auth/register', { json: { email: `stop-${schema}@example.com`, name: 'Stop', password: 'password123' } });
    expect(register.status).toBe(201);
    const token = register.body.token as string;
    const { payload, headers } = multipart([{ name: 'session_id', value: 'in-flight' }, { name: 'left', filename: 'left.mp4', content: longVideo }]);
    const upload = await api('POST', '/api/video/upload', { token, body: payload, headers });
    expect(upload.status, JSON.stringify(upload.body)).toBe(201);
    const id = upload.body.analysis_id as string;

    await inference; // frames of the analysis are in inference in `serve`
    expect((await api('GET', `/api/analysis/${id}`, { token })).body.status).toBe('in_progress');
    const { code, ms } = await terminate(serve);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    expect(serve.stderr()).not.toMatch(/shutdown took too long/);
    // Stopped well short of its end, not finished within the grace period.
    expect(models.estimator.calls.length).toBeLessThan(1500);
  });

  it('postura worker exits 0 within the grace period after SIGTERM, and the analysis is offered again', async (ctx) => {
    if (!testServers.databaseUrl) {
      ctx.skip('needs DATABASE_URL: a worker process cannot share an embedded PGlite database');
    }
    const { models, inference } = await slowModels(20);
    const dataDir = await mkdtemp(path.join(dir, 'worker-'));
    // The API in this process (no workers of its own); the worker a separate process on its database and objects.
    const t = await createTestApp({ jobs: { concurrency: 0 } }, { storageRoot: path.join(dataDir, 'objects') });
    cleanups.push(() => t.close());
    const db = t.databaseConfig as { url: string; schema: string };
    const worker = spawnPostura('worker', { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, DATA_DIR: dataDir, ...processEnv(models.url) });
    cleanups.push(() => worker.kill9());
    ctx.onTestFailed(() => console.error(`postura worker output:\n${worker.stderr()}`));

    const user = await newUser(t.app);
    const { payload, headers } = multipart([{ name: 'session_id', value: 'in-flight' }, { name: 'left', filename: 'left.mp4', content: longVideo }]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(upload.statusCode, upload.body).toBe(201);
    const id = upload.json().analysis_id as string;

    await inference; // the worker has claimed the analysis and its frames are in inference
    const { code, ms } = await terminate(worker);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    expect(worker.stderr()).not.toMatch(/shutdown took too long/);
    // Let go, not failed and not dropped: the row waits for the next claim and its job is still to be run.
    const row = await t.database.db.selectFrom('analyses').select(['status', 'heartbeat_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'in_progress', heartbeat_at: null });
    const { rows } = await t.database.withConnection((conn) => conn.query<{ state: string }>(
      `SELECT state FROM ${db.schema}_boss.job WHERE name = 'analyse-session' AND data->>'analysisId' = $1`, [id]));
    expect(rows.map((r) => r.state)).not.toContain('completed');
    expect(rows.some((r) => ['created', 'retry'].includes(r.state))).toBe(true);
  }, 150_000);
});
