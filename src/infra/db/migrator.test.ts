import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../../test/helpers/test-app.ts';
import { openDatabase } from './database.ts';
import { loadMigrations, migrate } from './migrator.ts';

const opened: Array<{ drop(): Promise<void> }> = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.drop();
});

async function freshDatabase() {
  const db = await openTestDatabase();
  opened.push(db);
  return db;
}

describe('migrate', () => {
  it('applies every migration once and is a no-op the second time', async () => {
    const { database } = await freshDatabase();
    const all = await loadMigrations();
    expect((await migrate(database)).map((m) => m.version)).toEqual(all.map((m) => m.version));
    expect(await migrate(database)).toEqual([]);
    const tables = await database.withConnection((c) => c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
    ));
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['revoked_tokens', 'schema_migrations', 'users']));
  });

  it('rolls a failing migration back whole and reports which one failed', async () => {
    const { database } = await freshDatabase();
    const broken = [
      { version: 1, name: 'ok', sql: 'CREATE TABLE a (id int);' },
      { version: 2, name: 'broken', sql: 'CREATE TABLE b (id int); SELECT * FROM missing_table;' },
    ];
    await expect(migrate(database, broken)).rejects.toThrow(/002_broken failed/);
    const tables = await database.withConnection((c) => c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
    ));
    const names = tables.rows.map((r) => r.table_name);
    expect(names).toContain('a');
    expect(names).not.toContain('b');
  });

  it('lets concurrent processes migrate the same database safely', async (ctx) => {
    const first = await freshDatabase();
    if (first.config.driver !== 'postgres') {
      ctx.skip('needs DATABASE_URL: one embedded database cannot be opened by two handles');
    }
    const second = await openDatabase(first.config);
    try {
      const [a, b] = await Promise.all([migrate(first.database), migrate(second)]);
      expect(a.length + b.length).toBe((await loadMigrations()).length);
    } finally {
      await second.close();
    }
  });

  it('refuses gaps in numbering', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'postura-migrations-'));
    await writeFile(path.join(dir, '001_a.sql'), 'SELECT 1');
    await writeFile(path.join(dir, '003_c.sql'), 'SELECT 1');
    await expect(loadMigrations(dir)).rejects.toThrow(/expected 2, got 3/);
  });
});
