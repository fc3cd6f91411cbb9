import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptPool } from './database.ts';
import { openPglitePool } from './pglite-pool.ts';

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
