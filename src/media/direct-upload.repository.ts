import type { Transaction } from 'kysely';
import type { DatabaseSchema } from '../infra/db/schema.ts';

export type QueueClaim = 'ok' | 'gone' | 'already_queued';

/**
 * The one decision that makes a direct upload queue its analysis exactly once, whoever finalizes it (the client's
 * finalize call, the bucket webhook, several API processes). Runs inside the commit transaction: the analysis row
 * is locked first, so a second finalizer waits here until the first commits; the media files are then counted in a
 * separate statement, which under READ COMMITTED sees what the first one committed. 'ok' means no files and still
 * pending: the caller adds its rows and the job in the same transaction.
 */
export async function claimWaitingAnalysis(tx: Transaction<DatabaseSchema>, analysisId: string): Promise<QueueClaim> {
  const row = await tx.selectFrom('analyses').select(['id', 'status']).where('id', '=', analysisId)
    .forUpdate().executeTakeFirst();
  if (!row) return 'gone';
  if (row.status !== 'pending') return 'already_queued';
  const file = await tx.selectFrom('media_files').select('view').where('analysis_id', '=', analysisId)
    .limit(1).executeTakeFirst();
  return file ? 'already_queued' : 'ok';
}
