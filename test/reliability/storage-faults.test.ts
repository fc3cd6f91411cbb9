import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import S3rver from 's3rver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnalysesRepository } from '../../src/analysis/analyses.repository.ts';
import { AnalysisEvents } from '../../src/analysis/analysis-events.ts';
import { AnalysisRunner } from '../../src/analysis/analysis-runner.ts';
import { startAnalysisWorkers } from '../../src/analysis/analysis.jobs.ts';
import { MemoryPubSub } from '../../src/infra/pubsub/memory-pubsub.ts';
import { S3ObjectStore } from '../../src/infra/object-store/s3-object-store.ts';
import { FakePoseEstimator } from '../../src/pose/pose-estimator.ts';
import { createUsersRepository } from '../../src/users/users.repository.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { multipart } from '../helpers/multipart.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

/**
 * A full disk, for real: while `fullDisk.under` is set, files the app creates below that folder are opened on
 * /dev/full instead, where every write fails with the kernel's own ENOSPC. Nothing else about the disk store changes.
 */
const fullDisk = vi.hoisted(() => ({ under: null as string | null }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const createWriteStream = ((file: string, options?: object) => {
    const full = fullDisk.under !== null && String(file).startsWith(fullDisk.under);
    return full ? fs.createWriteStream('/dev/full', { flags: 'w' }) : fs.createWriteStream(file, options as never);
  }) as typeof fs.createWriteStream;
  return { ...fs, createWriteStream, default: { ...fs, createWriteStream } };
});

const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  fullDisk.under = null;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function uploadImage(t: TestApp, user: TestUser, sessionId: string) {
  const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'front.jpg', content: jpg }]);
  return t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
}

async function rowsOf(t: TestApp, userId: string): Promise<{ analyses: number; mediaFiles: number }> {
  const analyses = await t.database.db.selectFrom('analyses').select('id').where('user_id', '=', userId).execute();
  const mediaFiles = analyses.length === 0 ? [] : await t.database.db.selectFrom('media_files').select('view')
    .where('analysis_id', 'in', analyses.map((a) => a.id)).execute();
  return { analyses: analyses.length, mediaFiles: mediaFiles.length };
}

describe('storage faults surface as clear failures', () => {
  it('answers an upload onto a full disk with 503 and the studio error body, keeping nothing of it', async () => {
    expect(existsSync('/dev/full'), 'needs /dev/full (Linux)').toBe(true);
    const root = await mkdtemp(path.join(os.tmpdir(), 'postura-full-disk-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const t = await createTestApp({}, { storageRoot: root });
    cleanups.push(() => t.close());
    const user = await newUser(t.app);

    fullDisk.under = root;
    const refused = await uploadImage(t, user, 'disk-full');
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json()).toEqual({
      error: 'Local object store cannot write (ENOSPC)', message: 'Local object store cannot write (ENOSPC)', code: 'unavailable',
    });
    // No half-stored upload: no rows, no object, no temp file.
    expect(await rowsOf(t, user.id)).toEqual({ analyses: 0, mediaFiles: 0 });
    expect(await t.store.list(`videos/${user.id}/`)).toEqual([]);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);

    fullDisk.under = null; // space freed: the same session id is free and the upload goes through
    const stored = await uploadImage(t, user, 'disk-full');
    expect(stored.statusCode, stored.body).toBe(201);
    expect(await rowsOf(t, user.id)).toEqual({ analyses: 1, mediaFiles: 1 });
  });

  it('fails an analysis whose media vanished from storage at once, saying which file is missing', async () => {
    const t = await createTestApp({ jobs: { retryLimit: 3 } }); // API only: the job waits until workers start
    cleanups.push(() => t.close());
    const user = await newUser(t.app);
    const upload = await uploadImage(t, user, 'vanished');
    expect(upload.statusCode).toBe(201);
    const id = upload.json().analysis_id as string;
    await t.store.delete(`videos/${user.id}/vanished/cx_front.jpg`);

    const estimator = new FakePoseEstimator();
    const runner = new AnalysisRunner({
      analyses: createAnalysesRepository(t.database.db), users: createUsersRepository(t.database.db), store: t.store, estimator,
      events: new AnalysisEvents(new MemoryPubSub(), () => {}), frameStep: 1, log: pino({ level: 'silent' }),
    });
    await startAnalysisWorkers(t.queue, runner, 1);
    const failed = await waitForAnalysis(t.app, user.token, id, ['completed', 'failed'], 20_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('front: the uploaded file front.jpg is no longer in storage');
    // Permanent: no retry can bring the file back, so none was made.
    const row = await t.database.db.selectFrom('analyses').select('attempts').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(1);
    expect(estimator.calls).toHaveLength(0);
  });

  it('reports an S3 endpoint that went down in /api/ready and answers uploads with 503, then recovers', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'postura-s3-down-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const startS3 = async (port: number) => {
      const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir, configureBuckets: [] });
      const address = await server.run();
      return { server, port: address.port };
    };
    let s3 = await startS3(0);
    cleanups.push(() => s3.server.close());
    const storage = {
      driver: 's3', endpoint: `http://127.0.0.1:${s3.port}`, region: 'us-east-1', bucket: 'postura-faults',
      accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true,
    } as const;
    const { driver: _driver, ...s3Config } = storage;
    await new S3ObjectStore(s3Config).createBucketIfMissing();
    const t = await createTestApp({ storage });
    cleanups.push(() => t.close());
    const user = await newUser(t.app);
    expect((await t.app.inject({ url: '/api/ready' })).json()).toMatchObject({ status: 'ready', checks: { objectStore: 'ok' } });

    await s3.server.close();
    const ready = await t.app.inject({ url: '/api/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks).toEqual({ database: 'ok', objectStore: 'failed' });
    const refused = await uploadImage(t, user, 's3-down');
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json()).toEqual({
      error: expect.stringMatching(/^Object store request failed: /), message: expect.stringMatching(/^Object store request failed: /),
      code: 'unavailable',
    });
    expect(await rowsOf(t, user.id)).toEqual({ analyses: 0, mediaFiles: 0 });

    s3 = await startS3(s3.port); // the same endpoint and bucket folder, back
    expect((await t.app.inject({ url: '/api/ready' })).statusCode).toBe(200);
    const stored = await uploadImage(t, user, 's3-down');
    expect(stored.statusCode, stored.body).toBe(201);
    expect(await t.store.list(`videos/${user.id}/s3-down/`)).toEqual([{ key: `videos/${user.id}/s3-down/cx_front.jpg`, size: jpg.length }]);
  });
});
