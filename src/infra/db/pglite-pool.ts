import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { ScriptPool } from './database.ts';

export interface PgliteMaintenance {
  /** How often VACUUM (ANALYZE) runs; 0: never. */
  intervalMs: number;
  /** It waits for the connection to have been free this long, so it does not land in the middle of a burst. */
  idleMs: number;
  /** ...but after this long overdue it runs anyway (a database that is never idle still gets it). */
  maxDelayMs: number;
}

/** Every 10 minutes, at a quiet moment: ~0.4 s for 100,000 live events (measured), during which queries wait. */
export const DEFAULT_PGLITE_MAINTENANCE: PgliteMaintenance = { intervalMs: 10 * 60_000, idleMs: 1_000, maxDelayMs: 10 * 60_000 };

/**
 * PGlite is one Postgres backend in this process: a single connection. Handing it out to one borrower at a time
 * keeps a transaction's statements from interleaving with anyone else's. The invariant callers keep: code holding
 * the connection (inside a transaction) must not wait for another query on the shared pool, or it waits forever.
 *
 * PGlite has no autovacuum: left alone, no table ever gets statistics (the planner guesses, and guessed a scan of
 * every live session per event insert) and rows the job queue updates and deletes are never reclaimed. The pool runs
 * VACUUM (ANALYZE) itself, periodically, when the connection is idle.
 */
export async function openPglitePool(dataDir: string | null, maintenance = DEFAULT_PGLITE_MAINTENANCE): Promise<ScriptPool> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir ?? undefined);
  const waiters: Array<() => void> = [];
  let busy = false;
  let closed = false;
  let freeSince = performance.now();

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
    else {
      busy = false;
      freeSince = performance.now();
    }
  };

  let dueAt = performance.now() + maintenance.intervalMs;
  let running: Promise<void> | undefined;
  const timer = maintenance.intervalMs > 0
    ? setInterval(() => {
      const now = performance.now();
      if (running || closed || now < dueAt) return;
      const quiet = !busy && now - freeSince >= maintenance.idleMs;
      if (!quiet && now < dueAt + maintenance.maxDelayMs) return;
      running = (async () => {
        await acquire();
        try {
          await pg.exec('VACUUM (ANALYZE)');
        } finally {
          release();
          dueAt = performance.now() + maintenance.intervalMs;
          running = undefined;
        }
      })().catch(() => undefined);
    }, Math.max(10, Math.min(maintenance.idleMs, 5_000)))
    : undefined;
  timer?.unref();

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
      if (timer) clearInterval(timer);
      await running;
      await pg.close();
    },
  };
}
