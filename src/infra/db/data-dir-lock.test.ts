import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from './data-dir-lock.ts';
import { openPglitePool } from './pglite-pool.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'postura-lock-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('the embedded database folder, one process at a time', () => {
  it('refuses a second opener in another process with a message that says what to do, and keeps the data', async () => {
    const dataDir = path.join(tmp, 'data');
    const pool = await openPglitePool(path.join(dataDir, 'pglite'));
    try {
      const client = await pool.connect();
      await client.query('CREATE TABLE kept (v int)');
      await client.query('INSERT INTO kept VALUES (42)');
      client.release();
      // `postura migrate` beside a running server: before, both wrote the folder's files.
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, [path.join(root, 'bin/postura.js'), 'migrate'], {
          cwd: root, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' },
        }, (error, _stdout, stderr) => resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stderr }));
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`in use by process ${process.pid}`);
      expect(result.stderr).toContain('DATA_DIR');
      const again = await pool.connect();
      expect((await again.query('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
      again.release();
    } finally {
      await pool.end();
    }
    // Closed: the lock is gone and the folder opens again, with its data.
    expect(existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
    const reopened = await openPglitePool(path.join(dataDir, 'pglite'));
    try {
      const client = await reopened.connect();
      expect((await client.query('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
      client.release();
    } finally {
      await reopened.end();
    }
  }, 120_000);

  it('refuses a second open in the same process', () => {
    const dir = path.join(tmp, 'same');
    const release = lockDataDir(dir);
    try {
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    } finally {
      release();
    }
    lockDataDir(dir)();
  });

  it('takes over a lock left by a process that died, or by an earlier life of this pid', async () => {
    const dir = path.join(tmp, 'stale');
    for (const pid of [await deadPid(), process.pid]) {
      writeFileSync(`${dir}.lock`, `${pid}\n`);
      const release = lockDataDir(dir);
      expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(`${process.pid}\n`);
      release();
      expect(existsSync(`${dir}.lock`)).toBe(false);
    }
  });

  it('leaves alone a lock taken over by another process after this one let go', () => {
    const dir = path.join(tmp, 'taken');
    const release = lockDataDir(dir);
    // Another live process (our parent) owns it now: the release must not delete its lock.
    writeFileSync(`${dir}.lock`, `${process.ppid}\n`);
    release();
    expect(readFileSync(`${dir}.lock`, 'utf8')).toBe(`${process.ppid}\n`);
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${process.ppid}`));
  });
});
