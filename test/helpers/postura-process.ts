import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { TEST_JWT_SECRET } from './test-app.ts';

/** A port nobody listens on right now (the OS picks it; the caller binds it soon after). */
export async function freeLocalPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface PosturaProcess {
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** The last few KiB of stderr, for failure messages. */
  stderr(): string;
  /** SIGKILL: no shutdown hooks, no graceful anything; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** `bin/postura.js <command>` with only the environment given (plus PATH, HOME and the test secret). */
export function spawnPostura(command: string, env: Record<string, string>): PosturaProcess {
  const child = spawn(process.execPath, [path.resolve('bin/postura.js'), command], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', JWT_SECRET: TEST_JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its log (stdout, warnings and up) and stderr together: what a failing test prints.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    child,
    exited,
    stderr: () => tail,
    kill9: () => gone('SIGKILL', 0),
    stop: (graceMs = 15_000) => gone('SIGTERM', graceMs),
  };
}

/** Polls GET /api/ready until it answers 200; fails at once if the process exits first. */
export async function waitUntilReady(base: string, proc: PosturaProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`postura exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.stderr()}`);
    const ok = await fetch(`${base}/api/ready`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${base} not ready after ${timeoutMs} ms:\n${proc.stderr()}`);
}

/** A small JSON client for a listening API, with a per-request deadline so a hang fails the test instead of stalling it. */
export function apiClient(base: string, timeoutMs = 15_000) {
  return async (method: string, url: string, options: { token?: string; json?: unknown; body?: Buffer; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${url}`, {
      method,
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: Record<string, any> = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { raw: text };
    }
    return { status: response.status, body };
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Polls an analysis over HTTP until it reaches one of `statuses`. */
export async function pollAnalysis(api: ApiClient, token: string, id: string, statuses: string[], timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api('GET', `/api/analysis/${id}`, { token });
    if (statuses.includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`analysis ${id} still ${String(body.status)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Drops a schema that `postura` processes shared on the PostgreSQL server, and pg-boss's schema beside it. */
export async function dropProcessSchemas(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of [schema, `${schema}_boss`]) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  } finally {
    await client.end();
  }
}
