import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { ScriptPool } from './database.ts';

/**
 * PGlite is one Postgres backend in this process: a single connection. Handing it out to one borrower at a time
 * keeps a transaction's statements from interleaving with anyone else's. The invariant callers keep: code holding
 * the connection (inside a transaction) must not wait for another query on the shared pool, or it waits forever.
 */
export async function openPglitePool(dataDir: string | null): Promise<ScriptPool> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir ?? undefined);
  const waiters: Array<() => void> = [];
  let busy = false;
  let closed = false;

  const acquire = async (): Promise<void> => {
    if (closed) throw new Error('Database is closed');
    if (!busy) {
      busy = true;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const release = (): void => {
    const next = waiters.shift();
    if (next) next();
    else busy = false;
  };

  return {
    async connect() {
      await acquire();
      let released = false;
      return {
        async query(sql, params = []) {
          // Kysely reads affected-row counts only when `command` names a write, as node-postgres reports it.
          const result = await pg.query(sql, params as unknown[]) as Awaited<ReturnType<typeof pg.query>> & { command?: string };
          const command = result.command ?? sql.trimStart().split(/\s/, 1)[0]!.toUpperCase();
          return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length, command };
        },
        release() {
          if (released) return;
          released = true;
          release();
        },
      };
    },
    async execScript(_client, script) {
      const results = await pg.exec(script);
      return results.at(-1)?.rows ?? [];
    },
    async end() {
      closed = true;
      await pg.close();
    },
  };
}
