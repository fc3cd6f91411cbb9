import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptPool } from './database.ts';
import { openPglitePool, PGLITE_SETTINGS } from './pglite-pool.ts';

let pool: ScriptPool | undefined;
afterEach(async () => {
  await pool?.end();
  pool = undefined;
});

async function reltuples(p: ScriptPool): Promise<number> {
  const client = await p.connect();
  try {
    const { rows } = await client.query(`SELECT reltuples FROM pg_class WHERE relname = 'samples'`);
    return Number((rows[0] as { reltuples: number }).reltuples);
  } finally {
    client.release();
  }
}

describe('PGlite maintenance (it has no autovacuum)', () => {
  it('gathers table statistics by itself once the connection has been idle', async () => {
    pool = await openPglitePool(null, { intervalMs: 100, idleMs: 50, maxDelayMs: 60_000 });
    const client = await pool.connect();
    await client.query('CREATE TABLE samples (id int PRIMARY KEY, v text)');
    await client.query(`INSERT INTO samples SELECT g, 'x' FROM generate_series(1, 1000) g`);
    // Held past the interval: nothing runs while a borrower has the connection.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { rows } = await client.query(`SELECT reltuples FROM pg_class WHERE relname = 'samples'`);
    expect(Number((rows[0] as { reltuples: number }).reltuples)).toBe(-1);
    client.release();

    const deadline = Date.now() + 10_000;
    while ((await reltuples(pool)) !== 1000) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('can be switched off', async () => {
    pool = await openPglitePool(null, { intervalMs: 0, idleMs: 0, maxDelayMs: 0 });
    const client = await pool.connect();
    await client.query('CREATE TABLE samples (id int)');
    await client.query('INSERT INTO samples SELECT generate_series(1, 10)');
    client.release();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await reltuples(pool)).toBe(-1);
  });
});

describe('PGlite on a data folder', () => {
  const OFF = { intervalMs: 0, idleMs: 0, maxDelayMs: 0 };
  let root: string | undefined;
  afterEach(async () => {
    await pool?.end();
    pool = undefined;
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  async function query(p: ScriptPool, sql: string): Promise<Array<Record<string, unknown>>> {
    const client = await p.connect();
    try {
      return (await client.query(sql)).rows as Array<Record<string, unknown>>;
    } finally {
      client.release();
    }
  }

  it('creates a brand-new folder (first-time setup in a child process), keeps what is written, and starts with its settings', async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'postura-pglite-'));
    const dir = path.join(root, 'nested', 'pglite');
    pool = await openPglitePool(dir, OFF);
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(true);
    await query(pool, 'CREATE TABLE kept (id int PRIMARY KEY, v text)');
    await query(pool, `INSERT INTO kept VALUES (1, 'one'), (2, 'two')`);
    expect(await query(pool, 'SHOW shared_buffers')).toEqual([{ shared_buffers: PGLITE_SETTINGS.shared_buffers }]);
    await pool.end();

    pool = await openPglitePool(dir, OFF);
    expect(await query(pool, 'SELECT id, v FROM kept ORDER BY id')).toEqual([{ id: 1, v: 'one' }, { id: 2, v: 'two' }]);
    expect(await query(pool, 'SHOW maintenance_work_mem')).toEqual([{ maintenance_work_mem: PGLITE_SETTINGS.maintenance_work_mem }]);
    // initdb's own defaults stay in force where not overridden (the settings go on the command line, not over its file).
    expect(await query(pool, 'SHOW TimeZone')).toEqual([{ TimeZone: 'UTC' }]);
  }, 60_000);
});
