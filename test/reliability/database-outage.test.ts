import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeModelServer } from '../helpers/fake-model-server.ts';
import { multipart } from '../helpers/multipart.ts';
import { apiClient, dropProcessSchemas, freeLocalPort, pollAnalysis, spawnPostura, waitUntilReady, type ApiClient } from '../helpers/postura-process.ts';
import { CuttableTcpProxy } from '../helpers/tcp-proxy.ts';
import { testServers } from '../helpers/test-app.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

interface Answer {
  route: string;
  family: 'studio' | 'live';
  startedAt: number;
  endedAt: number;
  status: number;
  body: Record<string, any>;
}

/**
 * Requests a client keeps making: studio reads with a token, and live session starts (anonymous writes). The profile
 * needs no database once its user and token are known (answered from memory), so it may keep answering 200.
 */
function loadRoutes(token: string): Array<{
  route: string; family: 'studio' | 'live'; ok: number; needsDatabase: boolean; send: (api: ApiClient) => ReturnType<ApiClient>;
}> {
  return [
    { route: 'GET /auth/profile', family: 'studio', ok: 200, needsDatabase: false, send: (api) => api('GET', '/auth/profile', { token }) },
    { route: 'GET /api/analysis/list', family: 'studio', ok: 200, needsDatabase: true, send: (api) => api('GET', '/api/analysis/list', { token }) },
    { route: 'POST /api/sessions/start/', family: 'live', ok: 201, needsDatabase: true, send: (api) => api('POST', '/api/sessions/start/', { json: {} }) },
  ];
}

/**
 * PostgreSQL going away under a running `postura serve` (a restart, a failover). The shared CI server cannot be
 * restarted (other suites use it), so the process reaches it through a TCP proxy the test cuts and restores.
 * While it is cut, every request that needs the database must answer at once with 503 and its family's error
 * body (never hang, never 500, never kill the process) and readiness must name the database; once it is back,
 * the same process serves again, its queue included, without a restart.
 */
describe('the database going away under load', () => {
  it('answers 503 with the family body while it is down, and recovers without a restart', async (ctx) => {
    if (!testServers.databaseUrl) {
      ctx.skip('needs DATABASE_URL: the embedded PGlite database lives inside the process and cannot go away alone');
    }
    const proxy = await CuttableTcpProxy.start({
      host: new URL(testServers.databaseUrl!).hostname, port: Number(new URL(testServers.databaseUrl!).port || 5432),
    });
    cleanups.push(() => proxy.close());
    const models = await startFakeModelServer();
    cleanups.push(() => models.close());
    const schema = `t_${randomBytes(6).toString('hex')}`;
    cleanups.push(() => dropProcessSchemas(testServers.databaseUrl!, schema));
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-db-outage-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freeLocalPort();
    const base = `http://127.0.0.1:${port}`;
    const serve = spawnPostura('serve', {
      DATABASE_URL: proxy.rewrite(testServers.databaseUrl!), DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: '4',
      ...(testServers.redisUrl ? { REDIS_URL: testServers.redisUrl } : {}),
      DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: base,
      MODEL_SERVER_URLS: `cx=${models.url},gy=${models.url}`, ANALYSIS_CONCURRENCY: '1',
      QUEUE_SUPERVISE_INTERVAL_SECONDS: '1', ANALYSIS_RETRY_DELAY_SECONDS: '1',
    });
    cleanups.push(() => serve.kill9());
    ctx.onTestFailed(() => console.error(`postura serve stderr:\n${serve.stderr()}`));
    await waitUntilReady(base, serve);
    const api = apiClient(base, 10_000);
    const register = await api('POST', '/auth/register', { json: { email: `outage-${schema}@example.com`, name: 'Outage', password: 'password123' } });
    expect(register.status).toBe(201);
    const token = register.body.token as string;
    const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
    const upload = (sessionId: string) => {
      const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'front.jpg', content: jpg }]);
      return api('POST', '/api/video/upload', { token, body: payload, headers });
    };

    // Four clients loop over the routes from before the cut until after the restore.
    const routes = loadRoutes(token);
    const answers: Answer[] = [];
    let loading = true;
    const client = async (offset: number) => {
      for (let i = offset; loading; i++) {
        const { route, family, send } = routes[i % routes.length]!;
        const startedAt = Date.now();
        const { status, body } = await send(api).catch((error: Error) => ({ status: 0, body: { transport: error.message } }));
        answers.push({ route, family, startedAt, endedAt: Date.now(), status, body });
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    await until(() => answers.length >= 20);

    proxy.cut();
    const cutAt = Date.now();
    await until(() => answers.filter((a) => a.startedAt > cutAt).length >= 40);
    const ready = await api('GET', '/api/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('unavailable');
    expect(ready.body.checks.database).toBe('failed');
    expect(ready.body.checks.objectStore).toBe('ok');
    expect((await api('GET', '/api/health')).status).toBe(200);
    const refusedUpload = await upload('during-outage');
    expect(refusedUpload).toMatchObject({ status: 503, body: { code: 'unavailable' } });
    expect(refusedUpload.body.error).toEqual(expect.any(String));
    expect(proxy.refused).toBeGreaterThan(0);

    proxy.restore();
    const restoredAt = Date.now();
    await waitUntilReady(base, serve, 20_000);
    loading = false;
    await Promise.all(clients);

    // Every answer is the route's success or a 503 in the family's shape; none hung (status 0), none was a 500.
    for (const answer of answers) {
      const expected = routes.find((r) => r.route === answer.route)!.ok;
      if (answer.status === expected) continue;
      expect(answer.status, `${answer.route}: ${JSON.stringify(answer.body)}`).toBe(503);
      expect(answer.body.code).toBe('unavailable');
      expect(Object.keys(answer.body).sort()).toEqual(answer.family === 'live' ? ['code', 'detail'] : ['code', 'error', 'message']);
    }
    // Asked while the database was cut: each one that needs it failed, and quickly; none hung.
    const duringOutage = answers.filter((a) => a.startedAt > cutAt && a.endedAt < restoredAt);
    expect(duringOutage.length).toBeGreaterThanOrEqual(40);
    const needed = duringOutage.filter((a) => routes.find((r) => r.route === a.route)!.needsDatabase);
    expect(needed.every((a) => a.status === 503)).toBe(true);
    expect(Math.max(...duringOutage.map((a) => a.endedAt - a.startedAt))).toBeLessThan(5_000);
    expect(new Set(needed.map((a) => a.route)).size).toBe(routes.filter((r) => r.needsDatabase).length);

    // The same process, never restarted, serves again: reads, writes, and an analysis through the job queue.
    expect(serve.child.exitCode).toBeNull();
    for (const { route, send, ok } of routes) expect((await send(api)).status, route).toBe(ok);
    const again = await upload('during-outage'); // nothing of the refused upload was kept: the session id is free
    expect(again.status).toBe(201);
    const done = await pollAnalysis(api, token, again.body.analysis_id as string, ['completed', 'failed'], 30_000);
    expect(done.status, String(done.error)).toBe('completed');
    expect(serve.child.exitCode).toBeNull();
  }, 120_000);
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
