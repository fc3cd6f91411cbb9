import pg from 'pg';
import type { DatabaseConfig } from '../../config/config.ts';
import type { PoolClientLike, ScriptPool } from './database.ts';

const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A pg pool; with a schema configured every connection works inside it (tests use one schema per run). */
export async function openPostgresPool(config: Extract<DatabaseConfig, { driver: 'postgres' }>): Promise<ScriptPool> {
  if (config.schema !== null && !SAFE_IDENTIFIER.test(config.schema)) {
    throw new Error(`Invalid database schema name "${config.schema}"`);
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
  });
  // An idle client losing its server (restart, network) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  if (config.schema) {
    // Processes starting together may race here: IF NOT EXISTS is not atomic, the loser sees a duplicate.
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${config.schema}`).catch((error: { code?: string }) => {
      if (error.code !== '23505' && error.code !== '42P06') throw error;
    });
  }
  return {
    connect: () => pool.connect() as Promise<PoolClientLike>,
    async execScript(client: PoolClientLike, script: string) {
      // A multi-statement simple query answers one result per statement.
      const result = (await client.query(script)) as unknown as { rows: unknown[] } | Array<{ rows: unknown[] }>;
      return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
    },
    end: () => pool.end(),
  };
}
