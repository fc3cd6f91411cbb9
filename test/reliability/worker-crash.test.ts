import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../helpers/factories.ts';
import { multipart } from '../helpers/multipart.ts';
import { createTestApp, TEST_JWT_SECRET, testServers, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A separate `postura worker` process on the test's database and object folder. */
function startWorker(t: TestApp, dataDir: string): ChildProcess {
  const db = t.databaseConfig as { url: string; schema: string };
  const child = spawn(process.execPath, [path.resolve('bin/postura.js'), 'worker'], {
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn',
      DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema, DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET,
      ANALYSIS_CONCURRENCY: '1', ANALYSIS_FRAME_STEP: '4', ANALYSIS_LEASE_SECONDS: '45', QUEUE_SUPERVISE_INTERVAL_SECONDS: '2',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('a worker process killed mid-analysis', () => {
  it('leaves the analysis to be finished by another worker once the lease runs out', async (ctx) => {
    if (!testServers.databaseUrl) {
      ctx.skip('needs DATABASE_URL: two processes cannot share one embedded PGlite database');
    }
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-crash-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const t = await createTestApp({ jobs: { leaseSeconds: 45 } }, { storageRoot: path.join(dataDir, 'objects') });
    cleanups.push(() => t.close());
    const user = await newUser(t.app);

    const first = startWorker(t, dataDir);
    const { payload, headers } = multipart([
      { name: 'session_id', value: 'crash' },
      { name: 'left', filename: 'walk.mp4', content: await readFile('test/fixtures/sports2d_demo.mp4') },
    ]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(upload.statusCode).toBe(201);
    const id = upload.json().analysis_id as string;

    await waitForAnalysis(t.app, user.token, id, ['in_progress'], 120_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect((await t.app.inject({ url: `/api/analysis/${id}`, headers: bearer(user.token) })).json().status).toBe('in_progress');

    startWorker(t, dataDir);
    const done = await waitForAnalysis(t.app, user.token, id, ['completed', 'failed'], 240_000);
    expect(done.status).toBe('completed');
    const row = await t.database.db.selectFrom('analyses').select('attempts').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(2);
  }, 400_000);
});
