import { CompiledQuery } from 'kysely';
import type { SqlExecutor } from '../queue/job-queue.ts';

/** Raw SQL on a Kysely transaction, so a job is enqueued inside the same transaction as the rows it concerns. */
export function transactionExecutor(tx: { executeQuery: (q: never) => Promise<{ rows: unknown[] }> }): SqlExecutor {
  return {
    executeSql: (text, values = []) => tx.executeQuery(CompiledQuery.raw(text, values) as never),
  };
}
