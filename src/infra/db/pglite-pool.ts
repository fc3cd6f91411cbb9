import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { ScriptPool } from './database.ts';
import { lockDataDir } from './data-dir-lock.ts';

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
 * Postgres settings PGlite starts with, passed on its command line (initdb's postgresql.conf, with its timezone and
 * locale, stays as it is). PGlite's WebAssembly memory only ever grows, so every megabyte Postgres touches stays
 * resident for the life of the process: initdb's shared_buffers of 128MB held ~125 MB of an idle server. At 16MB the
 * hot pages of this application's tables still fit, and the OS page cache keeps the rest of the files (measured on a
 * 96 MB table: point lookups, a full scan and inserts no slower than at 128MB). maintenance_work_mem bounds what
 * VACUUM and index builds may take, and then keep, at 16MB instead of 64MB.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
});

function startParams(settings: Readonly<Record<string, string>>): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}

/**
 * PGlite's first-time setup (initdb) runs a second WebAssembly Postgres and copies its files through this one's
 * memory: done in this process it left ~450-600 MB resident for good (WebAssembly memory is never given back). On a
 * brand-new data folder it runs in a short-lived child process instead, which hands all of that back when it exits;
 * this process then opens the folder as on any later start. A first start was no slower for it (measured: healthy
 * after 12 s instead of 22-28 s on two busy cores).
 */
async function initDataDirApart(dataDir: string, settings: Readonly<Record<string, string>>): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `const { PGlite } = require(process.argv[1]);
(async () => { const pg = await PGlite.create(process.argv[2], { startParams: JSON.parse(process.argv[3]) }); await pg.close(); })()
  .catch((error) => { console.error(error); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script, entry, dataDir, JSON.stringify(startParams(settings))], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + String(chunk)).slice(-2_000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`Creating the database in ${dataDir} failed (exit ${code}): ${stderr.trim()}`);
}

/**
 * PGlite is one Postgres backend in this process: a single connection. Handing it out to one borrower at a time
 * keeps a transaction's statements from interleaving with anyone else's. The invariant callers keep: code holding
 * the connection (inside a transaction) must not wait for another query on the shared pool, or it waits forever.
 *
 * PGlite has no autovacuum: left alone, no table ever gets statistics (the planner guesses, and guessed a scan of
 * every live session per event insert) and rows the job queue updates and deletes are never reclaimed. The pool runs
 * VACUUM (ANALYZE) itself, periodically, when the connection is idle.
 */
export async function openPglitePool(dataDir: string | null, maintenance = DEFAULT_PGLITE_MAINTENANCE,
  settings = PGLITE_SETTINGS): Promise<ScriptPool> {
  let unlock: (() => void) | undefined;
  let pg: PGlite;
  try {
    if (dataDir) {
      await mkdir(dataDir, { recursive: true });
      unlock = lockDataDir(dataDir);
      if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initDataDirApart(dataDir, settings);
    }
    pg = await PGlite.create(dataDir ?? undefined, { startParams: startParams(settings) });
  } catch (err) {
    unlock?.();
    throw err;
  }
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
      try {
        await pg.close();
      } finally {
        unlock?.();
      }
    },
  };
}
