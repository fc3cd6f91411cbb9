import { sql, type ExpressionBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../infra/db/database.ts';
import type { AnalysesTable, AnalysisStatus, DatabaseSchema, MediaFilesTable } from '../infra/db/schema.ts';
import type { SubjectChoice } from '../pose/subject-tracks.ts';
import type { UploadView } from '../posture/index.ts';
import { subjectNameKey, type SubjectDetails } from './subject-details.ts';

const UNIQUE_VIOLATION = '23505';

/** A subject chosen by the user (the automatic rule is stored as null). */
export type UserSubjectChoice = Exclude<SubjectChoice, { kind: 'auto' }>;

export interface Analysis {
  id: string;
  userId: string;
  sessionId: string;
  modelName: string;
  profile: string;
  status: AnalysisStatus;
  error: string | null;
  progress: number;
  attempts: number;
  result: Record<string, unknown> | null;
  overallScore: number | null;
  /** The subject's height in cm given at upload, the scale of every cm value; null: estimate it. */
  subjectHeightCm: number | null;
  /** Who to analyse in every view, chosen at upload; null: the automatic rule. */
  subjectChoice: UserSubjectChoice | null;
  /** The person assessed as given at upload (name, birth date or age, notes); kept by a retry. */
  subject: SubjectDetails;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface MediaFile {
  analysisId: string;
  view: UploadView;
  objectKey: string;
  originalFilename: string;
  fileType: 'image' | 'video';
  sizeBytes: number;
}

export interface AnalysisPage {
  analyses: Analysis[];
  nextCursor: string | null;
}

/**
 * Every status change is one conditional UPDATE ... RETURNING: the WHERE clause states which moves are legal,
 * so two workers (or a worker and a user's delete) can never both win.
 */
export interface AnalysesRepository {
  /** Inserts a pending analysis; null when the user already has this session id (the unique index decides). */
  reserve(input: {
    id: string; userId: string; sessionId: string; modelName: string; profile: string; subjectHeightCm?: number | null;
    subjectChoice?: UserSubjectChoice | null; subject?: SubjectDetails;
  }): Promise<Analysis | null>;
  findById(id: string): Promise<Analysis | null>;
  findBySession(userId: string, sessionId: string): Promise<Analysis | null>;
  /**
   * The previous assessment of the same person: the latest completed analysis of the same user with the same subject
   * name (case and whitespace aside), created before this one. Null when this one has no name or there is none.
   */
  findPreviousAssessment(id: string): Promise<Analysis | null>;
  listByUser(userId: string, options: { limit: number; cursor?: string | null }): Promise<AnalysisPage>;
  listAllForUser(userId: string, since: Date): Promise<Analysis[]>;
  addMediaFiles(tx: Transaction<DatabaseSchema>, files: MediaFile[]): Promise<void>;
  mediaFiles(analysisId: string): Promise<MediaFile[]>;
  /** The media of several analyses in one query (a listing page), by analysis then view. */
  mediaFilesOf(analysisIds: readonly string[]): Promise<MediaFile[]>;
  removeMediaFile(analysisId: string, view: UploadView): Promise<MediaFile | null>;
  /** The user's media files whose stored name (the object key's last part) is `filename`, with their session ids. */
  findMediaFilesByStoredName(userId: string, filename: string): Promise<Array<MediaFile & { sessionId: string }>>;
  /**
   * pending → in_progress for `attemptId`, or an in-progress analysis taken over from an attempt whose heartbeat is
   * older than `staleSeconds` (its process died). Null when the analysis is finished, gone, or held by a live attempt.
   */
  claim(id: string, attemptId: string, staleSeconds: number): Promise<Analysis | null>;
  /** The attempt is alive: false when it no longer holds the analysis (deleted, finished, or taken over). */
  heartbeat(id: string, attemptId: string): Promise<boolean>;
  /** The attempt lets go without finishing (shutdown): the next claim need not wait for its heartbeat to go stale. */
  release(id: string, attemptId: string): Promise<void>;
  setProgress(id: string, progress: number, attemptId?: string): Promise<boolean>;
  /** in_progress → completed, only by the attempt that holds it when `attemptId` is given. */
  complete(id: string, result: Record<string, unknown>, overallScore: number | null, attemptId?: string): Promise<Analysis | null>;
  /** pending | in_progress → failed; with `attemptId`, only while that attempt holds it. */
  fail(id: string, error: string, attemptId?: string): Promise<Analysis | null>;
  /** completed | failed → pending for a new run, optionally with another model; inside `tx` when given. */
  resetForRetry(id: string, modelName?: string, tx?: Transaction<DatabaseSchema>): Promise<Analysis | null>;
  delete(id: string): Promise<boolean>;
  /**
   * Reservations never finalized (a direct upload presigned and abandoned): created before `before`, no media, and
   * pending, or already marked with `reason` by a sweep that was interrupted. Oldest first, at most `limit`.
   */
  findAbandonedUploads(before: Date, reason: string, limit: number): Promise<Analysis[]>;
  /**
   * One of those → failed with `reason`, in one conditional UPDATE: a finalize (which claims only a pending row, under
   * its lock) or a signed PUT can no longer take it. Null when it has moved on meanwhile (finalized, deleted).
   */
  markAbandonedUpload(id: string, before: Date, reason: string): Promise<Analysis | null>;
  /** Deletes a row marked by `markAbandonedUpload` (still marked, still without media); false when it is not. */
  deleteAbandonedUpload(id: string, reason: string): Promise<boolean>;
  /** Of these (user, session id) pairs, the ones an analysis holds. */
  sessionsWithAnalysis(sessions: ReadonlyArray<SessionRef>): Promise<SessionRef[]>;
  /**
   * Runs `fn` in one transaction. Inside it, use only `tx`: on PGlite the transaction holds the single connection,
   * so a query on the shared handle would wait for it forever.
   */
  withTransaction<T>(fn: (tx: Transaction<DatabaseSchema>) => Promise<T>): Promise<T>;
  statsForUser(userId: string, weekStart: Date): Promise<UserAnalysisStats>;
}

/** A media session as object keys name it: `{user_id}/{session_id}`. */
export interface SessionRef {
  userId: string;
  sessionId: string;
}

export interface UserAnalysisStats {
  totalAnalyses: number;
  currentWeekAnalyses: number;
  averageOverallScore: number | null;
  latestAnalysisAt: Date | null;
}

export function createAnalysesRepository(db: Db): AnalysesRepository {
  return {
    async reserve(input) {
      try {
        const row = await db.insertInto('analyses').values({
          id: input.id, user_id: input.userId, session_id: input.sessionId, model_name: input.modelName,
          profile: input.profile, error: null, result: null, overall_score: null, started_at: null, finished_at: null,
          subject_height_cm: input.subjectHeightCm ?? null,
          subject_choice: input.subjectChoice ? JSON.stringify(input.subjectChoice) : null,
          subject_name: input.subject?.name ?? null, subject_name_key: subjectNameKey(input.subject?.name ?? null),
          subject_birth_date: input.subject?.birthDate ?? null, subject_age: input.subject?.age ?? null,
          subject_notes: input.subject?.notes ?? null,
        }).returningAll().executeTakeFirstOrThrow();
        return toAnalysis(row);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
        throw error;
      }
    },
    async findById(id) {
      const row = await db.selectFrom('analyses').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async findBySession(userId, sessionId) {
      const row = await db.selectFrom('analyses').selectAll()
        .where('user_id', '=', userId).where('session_id', '=', sessionId).executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async findPreviousAssessment(id) {
      // One query against this analysis' own row: its user, its name key and its creation time, to the microsecond.
      const row = await db.selectFrom('analyses as previous')
        .innerJoin('analyses as current', (join) => join
          .onRef('previous.user_id', '=', 'current.user_id')
          .onRef('previous.subject_name_key', '=', 'current.subject_name_key')
          .onRef('previous.created_at', '<', 'current.created_at'))
        .selectAll('previous')
        .where('current.id', '=', id).where('previous.status', '=', 'completed')
        .orderBy('previous.created_at', 'desc').limit(1).executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async listByUser(userId, { limit, cursor }) {
      let query = db.selectFrom('analyses').selectAll().where('user_id', '=', userId);
      const after = cursor ? decodeCursor(cursor) : null;
      if (after) {
        // Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans.
        query = query.where((eb) => eb.or([
          eb('created_at', '<', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)]),
        ]));
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit).map(toAnalysis);
      const last = page.at(-1);
      return { analyses: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },
    async listAllForUser(userId, since) {
      const rows = await db.selectFrom('analyses').selectAll()
        .where('user_id', '=', userId).where('created_at', '>=', since).orderBy('created_at', 'asc').execute();
      return rows.map(toAnalysis);
    },
    async addMediaFiles(tx, files) {
      if (files.length === 0) return;
      await tx.insertInto('media_files').values(files.map((f) => ({
        analysis_id: f.analysisId, view: f.view, object_key: f.objectKey, original_filename: f.originalFilename,
        file_type: f.fileType, size_bytes: f.sizeBytes,
      }))).onConflict((oc) => oc.columns(['analysis_id', 'view']).doUpdateSet((eb) => ({
        object_key: eb.ref('excluded.object_key'),
        original_filename: eb.ref('excluded.original_filename'),
        file_type: eb.ref('excluded.file_type'),
      }))).execute();
    },
    async mediaFiles(analysisId) {
      const rows = await db.selectFrom('media_files').selectAll().where('analysis_id', '=', analysisId)
        .orderBy('view').execute();
      return rows.map(toMediaFile);
    },
    async mediaFilesOf(analysisIds) {
      if (analysisIds.length === 0) return [];
      const rows = await db.selectFrom('media_files').selectAll().where('analysis_id', 'in', [...analysisIds])
        .orderBy('analysis_id').orderBy('view').execute();
      return rows.map(toMediaFile);
    },
    async removeMediaFile(analysisId, view) {
      const row = await db.deleteFrom('media_files').where('analysis_id', '=', analysisId).where('view', '=', view)
        .returningAll().executeTakeFirst();
      return row ? toMediaFile(row) : null;
    },
    async findMediaFilesByStoredName(userId, filename) {
      const rows = await db.selectFrom('media_files').innerJoin('analyses', 'analyses.id', 'media_files.analysis_id')
        .selectAll('media_files').select('analyses.session_id')
        .where('analyses.user_id', '=', userId)
        .where(sql<string>`regexp_replace(media_files.object_key, '^.*/', '')`, '=', filename)
        .orderBy('media_files.created_at').execute();
      return rows.map((row) => ({ ...toMediaFile(row), sessionId: row.session_id }));
    },
    async claim(id, attemptId, staleSeconds) {
      // One conditional UPDATE: of two claims racing for a stale or pending row, only one matches.
      const row = await db.updateTable('analyses')
        .set({ status: 'in_progress', started_at: sql`now()`, attempts: sql`attempts + 1`, error: null,
          attempt_id: attemptId, heartbeat_at: sql`now()` })
        .where('id', '=', id)
        .where((eb) => eb.or([
          eb('status', '=', 'pending'),
          eb.and([
            eb('status', '=', 'in_progress'),
            eb.or([
              eb('heartbeat_at', 'is', null),
              eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${staleSeconds})`),
            ]),
          ]),
        ]))
        .returningAll().executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async heartbeat(id, attemptId) {
      const result = await db.updateTable('analyses').set({ heartbeat_at: sql`now()` })
        .where('id', '=', id).where('status', '=', 'in_progress').where('attempt_id', '=', attemptId).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async release(id, attemptId) {
      await db.updateTable('analyses').set({ heartbeat_at: null })
        .where('id', '=', id).where('status', '=', 'in_progress').where('attempt_id', '=', attemptId).execute();
    },
    async setProgress(id, progress, attemptId) {
      let query = db.updateTable('analyses').set({ progress: Math.max(0, Math.min(1, progress)), heartbeat_at: sql`now()` })
        .where('id', '=', id).where('status', '=', 'in_progress');
      if (attemptId) query = query.where('attempt_id', '=', attemptId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async complete(id, result, overallScore, attemptId) {
      let query = db.updateTable('analyses')
        .set({ status: 'completed', progress: 1, result: JSON.stringify(result), overall_score: overallScore,
          error: null, finished_at: sql`now()`, heartbeat_at: null })
        .where('id', '=', id).where('status', '=', 'in_progress');
      if (attemptId) query = query.where('attempt_id', '=', attemptId);
      const row = await query.returningAll().executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async fail(id, error, attemptId) {
      let query = db.updateTable('analyses')
        .set({ status: 'failed', error, finished_at: sql`now()`, heartbeat_at: null })
        .where('id', '=', id).where('status', 'in', ['pending', 'in_progress']);
      if (attemptId) query = query.where('attempt_id', '=', attemptId);
      const row = await query.returningAll().executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async resetForRetry(id, modelName, tx) {
      const row = await (tx ?? db).updateTable('analyses')
        .set({
          status: 'pending', progress: 0, error: null, result: null, overall_score: null, attempts: 0,
          started_at: null, finished_at: null, attempt_id: null, heartbeat_at: null, ...(modelName ? { model_name: modelName } : {}),
        })
        .where('id', '=', id).where('status', 'in', ['completed', 'failed'])
        .returningAll().executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async delete(id) {
      const result = await db.deleteFrom('analyses').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async findAbandonedUploads(before, reason, limit) {
      const rows = await db.selectFrom('analyses').selectAll()
        .where((eb) => abandonedUpload(eb, before, reason))
        .orderBy('created_at').orderBy('id').limit(limit).execute();
      return rows.map(toAnalysis);
    },
    async markAbandonedUpload(id, before, reason) {
      const row = await db.updateTable('analyses')
        .set({ status: 'failed', error: reason, finished_at: sql`now()`, heartbeat_at: null })
        .where('id', '=', id).where((eb) => abandonedUpload(eb, before, reason))
        .returningAll().executeTakeFirst();
      return row ? toAnalysis(row) : null;
    },
    async deleteAbandonedUpload(id, reason) {
      const result = await db.deleteFrom('analyses')
        .where('id', '=', id).where('status', '=', 'failed').where('error', '=', reason)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('media_files').select('view').whereRef('media_files.analysis_id', '=', 'analyses.id'))))
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async sessionsWithAnalysis(sessions) {
      if (sessions.length === 0) return [];
      const rows = await db.selectFrom('analyses').select(['user_id', 'session_id'])
        .where((eb) => eb.or(sessions.map((s) => eb.and([eb('user_id', '=', s.userId), eb('session_id', '=', s.sessionId)]))))
        .execute();
      return rows.map((row) => ({ userId: row.user_id, sessionId: row.session_id }));
    },
    withTransaction(fn) {
      return db.transaction().execute(fn);
    },
    async statsForUser(userId, weekStart) {
      const row = await db.selectFrom('analyses')
        .select((eb) => [
          sql<number>`count(*)::int`.as('total'),
          sql<number>`count(*) FILTER (WHERE ${eb.ref('created_at')} >= ${weekStart})::int`.as('this_week'),
          sql<number | null>`avg(overall_score)::float8`.as('average'),
          sql<Date | null>`max(created_at)`.as('latest'),
        ])
        .where('user_id', '=', userId).executeTakeFirstOrThrow();
      return {
        totalAnalyses: Number(row.total),
        currentWeekAnalyses: Number(row.this_week),
        averageOverallScore: row.average === null ? null : Math.round(Number(row.average) * 100) / 100,
        latestAnalysisAt: row.latest ? new Date(row.latest) : null,
      };
    },
  };
}

/** Created before `before`, no media, and pending (or marked abandoned with `reason`): see findAbandonedUploads. */
function abandonedUpload(eb: ExpressionBuilder<DatabaseSchema, 'analyses'>, before: Date, reason: string) {
  return eb.and([
    eb('created_at', '<', before),
    eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'failed'), eb('error', '=', reason)])]),
    eb.not(eb.exists(eb.selectFrom('media_files').select('view').whereRef('media_files.analysis_id', '=', 'analyses.id'))),
  ]);
}

function toAnalysis(row: Selectable<AnalysesTable>): Analysis {
  return {
    id: row.id,
    userId: row.user_id,
    sessionId: row.session_id,
    modelName: row.model_name,
    profile: row.profile,
    status: row.status,
    error: row.error,
    progress: Number(row.progress),
    attempts: row.attempts,
    result: row.result,
    overallScore: row.overall_score,
    subjectHeightCm: row.subject_height_cm === null ? null : Number(row.subject_height_cm),
    subjectChoice: toSubjectChoice(row.subject_choice),
    subject: {
      name: row.subject_name, birthDate: row.subject_birth_date,
      age: row.subject_age === null ? null : Number(row.subject_age), notes: row.subject_notes,
    },
    createdAt: new Date(row.created_at),
    startedAt: row.started_at ? new Date(row.started_at) : null,
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
  };
}

/** The stored choice, read back checked rather than cast. Only `reserve` writes it, from a parsed choice. */
function toSubjectChoice(json: unknown): UserSubjectChoice | null {
  if (typeof json !== 'object' || json === null) return null;
  const c = json as Record<string, unknown>;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (c.kind === 'id' && Number.isSafeInteger(c.id)) return { kind: 'id', id: c.id as number };
  if (c.kind === 'point' && finite(c.x) && finite(c.y)) {
    return finite(c.t) ? { kind: 'point', x: c.x, y: c.y, t: c.t } : { kind: 'point', x: c.x, y: c.y };
  }
  return null;
}

function toMediaFile(row: Selectable<MediaFilesTable>): MediaFile {
  return {
    analysisId: row.analysis_id,
    view: row.view,
    objectKey: row.object_key,
    originalFilename: row.original_filename,
    fileType: row.file_type,
    sizeBytes: Number(row.size_bytes),
  };
}

function encodeCursor(analysis: Analysis): string {
  return Buffer.from(`${analysis.createdAt.toISOString()}|${analysis.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(iso ?? '');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  return Number.isNaN(createdAt.getTime()) || !id || !uuid.test(id) ? null : { createdAt, id };
}
