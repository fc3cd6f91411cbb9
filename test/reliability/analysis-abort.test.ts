// Analyses that must stop: at their lease, when deleted, at shutdown; never two attempts of one analysis at once.
// A long synthetic video (made here with the bundled ffmpeg) and a slow fake estimator that counts its requests
// and which attempt (signal) sent them make "how many ran at once" and "when did the work stop" observable.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAnalysesRepository } from '../../src/analysis/analyses.repository.ts';
import { AnalysisEvents } from '../../src/analysis/analysis-events.ts';
import { AnalysisRunner } from '../../src/analysis/analysis-runner.ts';
import { objectKeys } from '../../src/infra/object-store/object-keys.ts';
import { MemoryPubSub } from '../../src/infra/pubsub/memory-pubsub.ts';
import { JobAbortedError, type JobContext } from '../../src/infra/queue/job-queue.ts';
import { resolveFfmpegPath } from '../../src/pose/ffmpeg-path.ts';
import { FakePoseEstimator, type EstimateOptions, type PeopleOptions } from '../../src/pose/pose-estimator.ts';
import type { PersonCandidate, PoseResult, RgbImage } from '../../src/pose/pose-types.ts';
import { createUsersRepository } from '../../src/users/users.repository.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { multipart, type MultipartPart } from '../helpers/multipart.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
let dir = '';
/** 6,000 frames of 32×32 (200 s at 30 fps): minutes of work for the slow estimator, a quarter MB of file. */
let longVideo: Buffer;
/** 300 frames: 150 analysed at one in two. */
let shortVideo: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-abort-'));
  const make = async (frames: number, name: string) => {
    const file = path.join(dir, name);
    await promisify(execFile)(resolveFfmpegPath(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=30',
      '-frames:v', String(frames), '-pix_fmt', 'yuv420p', file]);
    return readFile(file);
  };
  [longVideo, shortVideo] = await Promise.all([make(6000, 'long.mp4'), make(300, 'short.mp4')]);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

/**
 * A fake whose every request takes a few ms and honours its signal. Each attempt of an analysis has a signal of its
 * own, so the number of distinct signals with a request in flight is the number of attempts running at once.
 */
class SlowEstimator extends FakePoseEstimator {
  requests = 0;
  lastRequestAt = 0;
  abortedAt: number | null = null;
  maxAttemptsAtOnce = 0;
  readonly signals = new Set<AbortSignal>();
  private readonly inFlight = new Map<AbortSignal | undefined, number>();

  private async work(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    this.requests += 1;
    this.lastRequestAt = Date.now();
    if (signal && !this.signals.has(signal)) {
      this.signals.add(signal);
      signal.addEventListener('abort', () => (this.abortedAt ??= Date.now()), { once: true });
    }
    this.inFlight.set(signal, (this.inFlight.get(signal) ?? 0) + 1);
    this.maxAttemptsAtOnce = Math.max(this.maxAttemptsAtOnce, this.inFlight.size);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3));
    } finally {
      const left = this.inFlight.get(signal)! - 1;
      if (left === 0) this.inFlight.delete(signal);
      else this.inFlight.set(signal, left);
    }
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  override async estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    await this.work(opts.signal);
    return super.estimate(image, { ...opts, signal: undefined });
  }

  override async people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    await this.work(opts.signal);
    return super.people(image, opts);
  }
}

/** Polls `condition` until it holds (never a fixed sleep); fails with `what` after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function upload(t: TestApp, user: TestUser, sessionId: string, files: MultipartPart[]): Promise<string> {
  const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, ...files]);
  const response = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().analysis_id as string;
}

/** The pg-boss state of the analysis' job: 'completed' once the handler returned. */
async function jobStates(t: TestApp, analysisId: string): Promise<string[]> {
  // The queue's schema: `pgboss` embedded, `<schema>_boss` beside a test's own schema on PostgreSQL.
  const db = t.databaseConfig;
  const boss = db.driver === 'postgres' && db.schema ? `${db.schema}_boss` : 'pgboss';
  const { rows } = await t.database.withConnection((conn) => conn.query<{ state: string }>(
    `SELECT state FROM ${boss}.job WHERE name = 'analyse-session' AND data->>'analysisId' = $1`, [analysisId]));
  return rows.map((r) => r.state);
}

const video = (name: string, content: Buffer): MultipartPart => ({ name, filename: `${name}.mp4`, content });

describe('analyses that must stop', () => {
  it('stops an analysis at its lease, fails it with the reason, and never runs a second attempt beside it', async () => {
    const estimator = new SlowEstimator();
    const t = await createTestApp({ jobs: { leaseSeconds: 3, heartbeatSeconds: 1, retryLimit: 2, concurrency: 1 } }, { estimator });
    apps.push(t);
    const user = await newUser(t.app);
    const id = await upload(t, user, 'lease', [video('left', longVideo)]);
    const failed = await waitForAnalysis(t.app, user.token, id, ['failed', 'completed'], 30_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/did not finish within its 3 s time limit/);
    await until(async () => (await jobStates(t, id)).every((s) => s === 'completed'), 'the job to end');
    expect(estimator.maxAttemptsAtOnce).toBe(1);
    expect(estimator.signals.size).toBe(1);
    expect(estimator.abortedAt).not.toBeNull();
    // Nothing was sent after the abort but what was already on its way in the same moment.
    expect(estimator.lastRequestAt - estimator.abortedAt!).toBeLessThan(1000);
    const row = await t.database.db.selectFrom('analyses').select(['attempts', 'heartbeat_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ attempts: 1, heartbeat_at: null });
  }, 60_000);

  it('stops within a second of a delete and leaves nothing under the session prefixes', async () => {
    const estimator = new SlowEstimator();
    const t = await createTestApp({ jobs: { heartbeatSeconds: 1, concurrency: 1 } }, { estimator });
    apps.push(t);
    const user = await newUser(t.app);
    // The photo (back) is analysed first and its results written; the long video (left) is then in progress.
    const id = await upload(t, user, 'doomed', [{ name: 'back', filename: 'back.jpg', content: jpg }, video('left', longVideo)]);
    const results = objectKeys.resultsPrefix(user.id, 'doomed');
    await until(async () => (await t.store.list(results)).length > 0 && estimator.requests > 40, 'results of the first view');

    const deletedAt = Date.now();
    const response = await t.app.inject({ method: 'DELETE', url: `/api/analysis/${id}`, headers: bearer(user.token) });
    expect(response.statusCode, response.body).toBeLessThan(300);
    await until(() => estimator.abortedAt !== null && !estimator.busy, 'the analysis to stop', 5_000);
    expect(estimator.abortedAt! - deletedAt).toBeLessThan(1500);
    expect(estimator.lastRequestAt - estimator.abortedAt!).toBeLessThan(1000);
    await until(async () => (await jobStates(t, id)).every((s) => s === 'completed'), 'the job to end');
    expect(await t.store.list(results)).toEqual([]);
    expect(await t.store.list(objectKeys.sessionMediaPrefix(user.id, 'doomed'))).toEqual([]);
  }, 60_000);

  it('stops the analyses in hand promptly when the worker shuts down', async () => {
    const estimator = new SlowEstimator();
    const t = await createTestApp({ jobs: { concurrency: 1 } }, { estimator });
    apps.push(t);
    const user = await newUser(t.app);
    const id = await upload(t, user, 'shutdown', [video('left', longVideo)]);
    await until(() => estimator.requests > 20, 'the analysis to be under way');
    const started = Date.now();
    await t.queue.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(estimator.abortedAt).not.toBeNull();
    expect(estimator.busy).toBe(false);
    // Let go, not failed: another worker may take it up at once.
    const row = await t.database.db.selectFrom('analyses').select(['status', 'heartbeat_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'in_progress', heartbeat_at: null });
  }, 60_000);

  it('fails a video over the frame bound at once, before any inference (10 analysed frames a second of a 30 fps clip)', async () => {
    const estimator = new SlowEstimator();
    const t = await createTestApp({ jobs: { maxFrames: 50, concurrency: 1 } }, { estimator });
    apps.push(t);
    const user = await newUser(t.app);
    const id = await upload(t, user, 'too-long', [video('left', shortVideo)]);
    const failed = await waitForAnalysis(t.app, user.token, id, ['failed', 'completed'], 30_000);
    expect(failed.error).toBe('left: the video is too long: at most 50 analysed frames (150 frames at one in 3) are accepted');
    expect(estimator.requests).toBe(0);
  }, 60_000);

  it('makes a second claim wait while the first attempt is alive, and lets a shutdown release it to the waiting one', async () => {
    const t = await createTestApp({ jobs: { concurrency: 0 } }); // no workers: the test drives the runner itself
    apps.push(t);
    const user = await newUser(t.app);
    const id = await upload(t, user, 'twice', [video('left', longVideo)]);
    const estimator = new SlowEstimator();
    const analyses = createAnalysesRepository(t.database.db);
    const runner = new AnalysisRunner({
      analyses, users: createUsersRepository(t.database.db), store: t.store, estimator,
      events: new AnalysisEvents(new MemoryPubSub(), () => {}), frameStep: 2, heartbeatSeconds: 1, log: pino({ level: 'silent' }),
    });
    const job = (controller: AbortController, retryCount: number): JobContext<'analyse-session'> => ({
      id: `job-${retryCount}`, name: 'analyse-session', data: { analysisId: id }, retryCount, isLastAttempt: false, signal: controller.signal,
    });
    const first = new AbortController();
    const running = runner.run(job(first, 0));
    running.catch(() => undefined);
    await until(() => estimator.requests > 20, 'the first attempt to be under way');
    // The retry of a lost job arrives while the first attempt works: it waits, never running beside it.
    const second = new AbortController();
    const waiting = runner.run(job(second, 1));
    waiting.catch(() => undefined);
    const seen = estimator.requests;
    await until(() => estimator.requests > seen + 20, 'the first attempt to go on while the retry waits');
    expect(estimator.signals.size).toBe(1);

    const stoppedAt = Date.now();
    first.abort(new JobAbortedError('shutdown', 'shutting down'));
    await expect(running).rejects.toThrow('shutting down');
    expect(Date.now() - stoppedAt).toBeLessThan(1000);
    // Released: the waiting retry takes over without waiting for the heartbeat to go stale (the job is not dropped).
    await until(() => estimator.signals.size === 2, 'the waiting retry to take the analysis over');
    second.abort(new JobAbortedError('shutdown', 'shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    const row = await analyses.findById(id);
    expect(row?.status).toBe('in_progress');
    expect(await analyses.claim(id, '00000000-0000-4000-8000-000000000001', 3)).not.toBeNull();
    expect(await analyses.heartbeat(id, '00000000-0000-4000-8000-000000000001')).toBe(true);
    expect(await analyses.claim(id, '00000000-0000-4000-8000-000000000002', 3)).toBeNull();
  }, 60_000);
});

describe('retries of an analysis', () => {
  it('allows a bounded number per analysis and per user, then answers 429 with Retry-After', async () => {
    const estimator = new FakePoseEstimator(['cx', 'gy'], () => null); // nobody in the picture: fails at once
    const t = await createTestApp({ jobs: { retriesPerAnalysisPerDay: 2, retriesPerUserPerHour: 3 } }, { estimator });
    apps.push(t);
    const user = await newUser(t.app);
    const photo = { name: 'front', filename: 'front.jpg', content: jpg };
    const a = await upload(t, user, 'a', [photo]);
    const b = await upload(t, user, 'b', [photo]);
    const retry = (id: string) => t.app.inject({ method: 'POST', url: `/api/analysis/retry/${id}`, headers: bearer(user.token) });
    const retryFailed = async (id: string) => {
      await waitForAnalysis(t.app, user.token, id, ['failed'], 20_000);
      return retry(id);
    };
    expect((await retryFailed(a)).statusCode).toBe(200);
    expect((await retryFailed(a)).statusCode).toBe(200);
    const perAnalysis = await retryFailed(a);
    expect(perAnalysis.statusCode).toBe(429);
    expect(Number(perAnalysis.headers['retry-after'])).toBeGreaterThan(3600);
    // The analysis' refusal did not spend the user's budget: one more retry is left for another analysis.
    expect((await retryFailed(b)).statusCode).toBe(200);
    const perUser = await retryFailed(b);
    expect(perUser.statusCode).toBe(429);
    expect(Number(perUser.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(perUser.headers['retry-after'])).toBeLessThanOrEqual(3600);
  }, 90_000);
});
