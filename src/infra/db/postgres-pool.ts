import pg from 'pg';
import type { DatabaseConfig } from '../../config/config.ts';
import { DatabaseUnavailableError, type PoolClientLike, type ScriptPool } from './database.ts';

const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A pg pool; with a schema configured every connection works inside it (tests use one schema per run). */
export async function openPostgresPool(config: Extract<DatabaseConfig, { driver: 'postgres' }>): Promise<ScriptPool> {
  if (config.schema !== null && !SAFE_IDENTIFIER.test(config.schema)) {
    throw new Error(`Invalid database schema name "${config.schema}"`);
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    // A server that silently stops answering (a network partition drops packets) must not hold requests forever:
    // connecting gives up and the request answers 503.
    connectionTimeoutMillis: 5_000,
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
  });
  // An idle client losing its server (restart, network) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // A checked-out client has no pool listener, yet pg also emits 'error' on it when its connection drops (besides
  // rejecting the query in flight): unheard, that event killed the process. The pool discards such a client on
  // release, since it is no longer queryable.
  pool.on('connect', (client) => client.on('error', () => {}));
  const wrapped = new WeakMap<pg.PoolClient, PoolClientLike>();
  if (config.schema) {
    // Processes starting together may race here: IF NOT EXISTS is not atomic, the loser sees a duplicate.
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${config.schema}`).catch((error: { code?: string }) => {
      if (error.code !== '23505' && error.code !== '42P06') throw error;
    });
  }
  return {
    async connect() {
      const client = await pool.connect().catch((error: unknown) => {
        throw translateConnectionError(error);
      });
      // One wrapper per client: Kysely keys its connections by the object it is handed.
      let like = wrapped.get(client);
      if (!like) {
        like = {
          query: (sql, params) => (client.query(sql, params as unknown[]) as Promise<Awaited<ReturnType<PoolClientLike['query']>>>)
            .catch((error: unknown) => {
              throw translateConnectionError(error);
            }),
          release: () => client.release(),
        };
        wrapped.set(client, like);
      }
      return like;
    },
    async execScript(client: PoolClientLike, script: string) {
      // A multi-statement simple query answers one result per statement.
      const result = (await client.query(script)) as unknown as { rows: unknown[] } | Array<{ rows: unknown[] }>;
      return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
    },
    end: () => pool.end(),
  };
}

/** Network failures and the server's own "going away / not now" answers: the database, not the statement, failed. */
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const DROPPED_CONNECTION = /^(Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect)/;

function translateConnectionError(error: unknown): unknown {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const lost = (typeof code === 'string' && (NETWORK_ERRORS.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
    || (typeof message === 'string' && DROPPED_CONNECTION.test(message));
  return lost ? new DatabaseUnavailableError({ cause: error }) : error;
}
