import { Kysely, PostgresDialect } from 'kysely';
import type { DatabaseConfig } from '../../config/config.ts';
import { AppError } from '../../errors/app-error.ts';
import type { DatabaseSchema } from './schema.ts';

export type Db = Kysely<DatabaseSchema>;

/** A raw connection for the few things a query builder does not express: migration scripts, advisory locks. */
export interface SqlConnection {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /** Runs a script of several statements with no parameters; answers the rows of the last one. */
  exec<R = Record<string, unknown>>(script: string): Promise<{ rows: R[] }>;
}

/** One handle over either engine: the same SQL dialect runs on both, so repositories never branch on it. */
export interface DatabaseHandle {
  readonly engine: DatabaseConfig['driver'];
  readonly db: Db;
  withConnection<T>(fn: (connection: SqlConnection) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The database server cannot be reached or dropped the connection (restart, failover, network): a 503 for the
 * request, not a 500. The cause (addresses included) stays in the logs, out of response bodies.
 */
export class DatabaseUnavailableError extends AppError {
  constructor(options?: { cause?: unknown }) {
    super('unavailable', 'Database unavailable, try again shortly');
    this.name = 'DatabaseUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** The minimal pg-pool surface Kysely's Postgres driver uses; both engines are adapted to it. */
export interface PoolLike {
  connect(): Promise<PoolClientLike>;
  end(): Promise<void>;
}
export interface PoolClientLike {
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: unknown[]; rowCount: number | null; command?: string }>;
  release(): void;
}

export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  if (config.driver === 'pglite') {
    const { openPglitePool } = await import('./pglite-pool.ts');
    return handleFromPool('pglite', await openPglitePool(config.dataDir));
  }
  const { openPostgresPool } = await import('./postgres-pool.ts');
  return handleFromPool('postgres', await openPostgresPool(config));
}

export type ScriptPool = PoolLike & { execScript(client: PoolClientLike, script: string): Promise<unknown[]> };

function handleFromPool(engine: DatabaseConfig['driver'], pool: ScriptPool): DatabaseHandle {
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: pool as never }) });
  return {
    engine,
    db,
    async withConnection(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          query: async <R>(sql: string, params: readonly unknown[] = []) => {
            const result = await client.query(sql, params);
            return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
          },
          exec: async <R>(script: string) => ({ rows: (await pool.execScript(client, script)) as R[] }),
        });
      } finally {
        client.release();
      }
    },
    async ping() {
      const client = await pool.connect();
      try {
        await client.query('SELECT 1');
      } finally {
        client.release();
      }
    },
    // Kysely's destroy ends the pool it was given.
    close: () => db.destroy(),
  };
}
