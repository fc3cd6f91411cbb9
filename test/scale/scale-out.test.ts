import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { multipart } from '../helpers/multipart.ts';
import { TEST_JWT_SECRET, testServers } from '../helpers/test-app.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function start(command: 'serve' | 'worker', env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.resolve('bin/postura.js'), command], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Polled until ready: three processes starting at once on a loaded machine (sources compiled on a first run) took over 60 s in CI. */
async function waitHealthy(base: string): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (await fetch(`${base}/api/ready`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${base} never became ready`);
}

describe('running at scale: two API processes and one worker on PostgreSQL and Redis', () => {
  it('analyses an upload made through one API process in the worker and pushes it to a socket on the other', async (ctx) => {
    if (!testServers.databaseUrl || !testServers.redisUrl) {
      ctx.skip('needs DATABASE_URL and REDIS_URL: separate processes share only a server database and Redis');
    }
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-scale-'));
    cleanups.push(async () => {
      await rm(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: testServers.databaseUrl! });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${schema}_boss CASCADE`);
      await client.end();
    });
    // One database, one Redis, one object folder (a bucket in production): the only state the processes share.
    const shared = {
      DATABASE_URL: testServers.databaseUrl!, DATABASE_SCHEMA: schema, REDIS_URL: testServers.redisUrl!,
      DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET, ANALYSIS_FRAME_STEP: '8',
    };
    const [portA, portB] = [await freePort(), await freePort()];
    const apiA = `http://127.0.0.1:${portA}`;
    const apiB = `http://127.0.0.1:${portB}`;
    // Migrations run under an advisory lock, so the processes may start together.
    start('serve', { ...shared, HOST: '127.0.0.1', PORT: String(portA), PUBLIC_URL: apiA, ANALYSIS_CONCURRENCY: '0' });
    start('serve', { ...shared, HOST: '127.0.0.1', PORT: String(portB), PUBLIC_URL: apiB, ANALYSIS_CONCURRENCY: '0' });
    start('worker', { ...shared, ANALYSIS_CONCURRENCY: '1' });
    await Promise.all([waitHealthy(apiA), waitHealthy(apiB)]);

    const json = async (response: Response) => (await response.json()) as Record<string, any>;
    const register = await json(await fetch(`${apiA}/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `scale-${schema}@example.com`, name: 'Scale', password: 'password123' }),
    }));
    const auth = { authorization: `Bearer ${register.token}` };
    const wsToken = (await json(await fetch(`${apiB}/auth/ws-token`, { headers: auth }))).ws_token;
    const socket = new WebSocket(`${apiB.replace('http', 'ws')}/ws/analysis?token=${wsToken}`);
    cleanups.push(async () => socket.close());
    const statuses: string[] = [];
    const completed = new Promise<void>((resolve) => socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.status) statuses.push(message.status);
      if (message.status === 'completed') resolve();
    }));
    await new Promise<void>((resolve) => socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connected') resolve();
    }));

    const { payload, headers } = multipart([
      { name: 'session_id', value: 'scaled' },
      { name: 'front', filename: 'front.jpg', content: await readFile('test/fixtures/coco_000000000785.jpg') },
      { name: 'left', filename: 'walk.mp4', content: await readFile('test/fixtures/sports2d_demo.mp4') },
    ]);
    const upload = await fetch(`${apiA}/api/video/upload`, { method: 'POST', headers: { ...headers, ...auth }, body: payload });
    expect(upload.status).toBe(201);
    const analysisId = (await json(upload)).analysis_id;

    await completed;
    expect(statuses[0]).toBe('in_progress');
    const detail = await json(await fetch(`${apiB}/api/analysis/${analysisId}`, { headers: auth }));
    expect(detail).toMatchObject({ status: 'completed', progress: 1 });
    const pdf = await fetch(detail.report_url);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
  }, 300_000);
});
