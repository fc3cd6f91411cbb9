import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServers } from '../helpers/test-app.ts';

const BIN = path.resolve('bin/postura.js');
let dataDir: string;
/** Each run gets its own data folder (embedded) or schema (PostgreSQL), never the developer's. */
let env: Record<string, string>;
let schema: string | null = null;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-cli-'));
  env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  if (testServers.databaseUrl) {
    schema = `t_${randomBytes(6).toString('hex')}`;
    Object.assign(env, { DATABASE_URL: testServers.databaseUrl, DATABASE_SCHEMA: schema });
  }
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  if (schema) {
    const client = new pg.Client({ connectionString: testServers.databaseUrl! });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
});

function run(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('postura CLI', () => {
  it('refuses to start in production without a strong JWT_SECRET', async () => {
    const none = await run(['serve'], { NODE_ENV: 'production' });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/JWT_SECRET is required when NODE_ENV=production/);
    const weak = await run(['serve'], { NODE_ENV: 'production', JWT_SECRET: 'secret' });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/too weak/);
  });

  it('lists configuration problems without a stack trace', async () => {
    const result = await run(['migrate'], { PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PORT must be an integer/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('migrates, creates an admin, and serves who can log in as admin', async () => {
    expect((await run(['migrate'])).stdout).toMatch(/Applied 001_users|up to date/);
    const created = await run(['create-admin', '--email', 'Boss@Example.com', '--name', 'Boss'], { POSTURA_ADMIN_PASSWORD: 'admin-password' });
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/Created admin boss@example.com/);
    const again = await run(['create-admin', '--email', 'boss@example.com']);
    expect(again.stdout).toMatch(/Promoted admin boss@example.com/);
    expect((await run(['create-admin'])).code).toBe(1);

    const port = await freePort();
    const server = spawn(process.execPath, [BIN, 'serve'], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' } });
    try {
      const base = `http://127.0.0.1:${port}`;
      // Polled until it answers: a loaded machine (or a first start compiling the sources) can take tens of seconds.
      let healthy = false;
      const deadline = Date.now() + 90_000;
      while (!healthy && Date.now() < deadline && server.exitCode === null) {
        healthy = await fetch(`${base}/api/health`).then((r) => r.ok, () => false);
        if (!healthy) await new Promise((r) => setTimeout(r, 200));
      }
      expect(healthy).toBe(true);
      const login = await fetch(`${base}/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'boss@example.com', password: 'admin-password' }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { user: { is_admin: boolean } }).user.is_admin).toBe(true);
    } finally {
      const exited = new Promise((resolve) => server.on('close', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  }, 180_000);

  it('prints usage for an unknown command, and for a typo the command it meant (before reading the configuration)', async () => {
    const result = await run(['frobnicate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unknown command "frobnicate"[\s\S]*Usage: postura/);
    const typo = await run(['analyse', 'clip.mp4'], { NODE_ENV: 'production' });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toBe('Unknown command "analyse": did you mean analyze? (postura help lists the commands)\n');
  });
});
