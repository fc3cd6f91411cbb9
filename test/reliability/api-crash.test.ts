import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/infra/db/database.ts';
import { Gate, startFakeModelServer } from '../helpers/fake-model-server.ts';
import { multipart } from '../helpers/multipart.ts';
import { apiClient, dropProcessSchemas, freeLocalPort, pollAnalysis, spawnPostura, waitUntilReady, type PosturaProcess } from '../helpers/postura-process.ts';
import { testServers } from '../helpers/test-app.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/**
 * `postura serve` runs the API and the analysis workers in one process. Killed with SIGKILL in the middle of an
 * analysis, it runs no shutdown hook: the analysis row stays in_progress and its job stays active in the queue. A
 * restart on the same data (the PGlite folder, or the same PostgreSQL schema) must reopen the database and finish
 * the job once its lease runs out. Inference goes to a model server in this test whose frames wait on a gate, so
 * the kill lands while the analysis is provably mid-flight (a frame in inference), not before or after it.
 */
describe('an API process killed with SIGKILL mid-analysis', () => {
  it('reopens its database on restart and completes the analysis; nothing stays in_progress', async (ctx) => {
    const gate = new Gate();
    const models = await startFakeModelServer({ beforeEstimate: () => gate.pass() });
    cleanups.push(() => models.close());
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-api-crash-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const schema = `t_${randomBytes(6).toString('hex')}`;
    if (testServers.databaseUrl) cleanups.push(() => dropProcessSchemas(testServers.databaseUrl!, schema));

    const port = await freeLocalPort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      // Embedded: PGlite on disk under DATA_DIR/pglite. With DATABASE_URL: a schema of its own on that server.
      ...(testServers.databaseUrl ? { DATABASE_URL: testServers.databaseUrl, DATABASE_SCHEMA: schema } : {}),
      DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: base,
      MODEL_SERVER_URLS: `cx=${models.url},gy=${models.url}`,
      // The lease is both how long the killed process's claim lasts and the time limit of the retry, which loads the
      // analysis runner cold and renders the report: 10 s was exceeded once in CI on the loaded 2 cores.
      ANALYSIS_CONCURRENCY: '1', ANALYSIS_LEASE_SECONDS: '30', QUEUE_SUPERVISE_INTERVAL_SECONDS: '1',
      ANALYSIS_RETRY_DELAY_SECONDS: '1',
    };
    const start = async (): Promise<PosturaProcess> => {
      const serve = spawnPostura('serve', env);
      cleanups.push(() => serve.kill9());
      ctx.onTestFailed(() => console.error(`postura serve stderr:\n${serve.stderr()}`));
      await waitUntilReady(base, serve);
      return serve;
    };
    const api = apiClient(base);

    const first = await start();
    const register = await api('POST', '/auth/register', { json: { email: `crash-${schema}@example.com`, name: 'Crash', password: 'password123' } });
    expect(register.status).toBe(201);
    const token = register.body.token as string;
    const { payload, headers } = multipart([
      { name: 'session_id', value: 'killed' },
      { name: 'front', filename: 'front.jpg', content: await readFile('test/fixtures/coco_000000000785.jpg') },
    ]);
    const upload = await api('POST', '/api/video/upload', { token, body: payload, headers });
    expect(upload.status).toBe(201);
    const id = upload.body.analysis_id as string;

    await gate.reached; // the analysis's frame is in inference: the job is claimed and running in `first`
    expect((await api('GET', `/api/analysis/${id}`, { token })).body.status).toBe('in_progress');
    await first.kill9();
    expect(first.child.signalCode).toBe('SIGKILL');
    gate.open();

    const second = await start();
    const done = await pollAnalysis(api, token, id, ['completed', 'failed'], 150_000);
    expect(done.status, String(done.error)).toBe('completed');
    expect(done.progress).toBe(1);
    const report = await fetch(done.report_url as string);
    expect(Buffer.from(await report.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    await second.stop();
    expect(await second.exited).toBe(0);

    // Read the database directly once no process holds it (PGlite allows one): one row, completed on its 2nd claim.
    const database = await openDatabase(testServers.databaseUrl
      ? { driver: 'postgres', url: testServers.databaseUrl, schema, poolSize: 1 }
      : { driver: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    cleanups.push(() => database.close());
    const rows = await database.db.selectFrom('analyses').select(['id', 'status', 'attempts']).execute();
    expect(rows).toEqual([{ id, status: 'completed', attempts: 2 }]);
    expect(await jobStates(database, testServers.databaseUrl ? `${schema}_boss` : 'pgboss')).toEqual(['completed']);
  }, 240_000);
});

/** States of the analyse-session jobs in pg-boss's own table: a lost job must not linger as active. */
async function jobStates(database: DatabaseHandle, bossSchema: string): Promise<string[]> {
  return database.withConnection(async (conn) => {
    const { rows } = await conn.query<{ state: string }>(`SELECT state FROM ${bossSchema}.job WHERE name = 'analyse-session'`);
    return rows.map((r) => r.state);
  });
}
