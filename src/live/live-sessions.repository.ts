import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../infra/db/database.ts';
import type { DatabaseSchema, LiveSessionsTable, PostureEventsTable } from '../infra/db/schema.ts';
import type { LiveSession, PostureEvent, SessionTotals, StoredKeypoints, ValidatedEvent } from './live-session.ts';
import type { EventSample } from './session-summary.ts';

/** A validated event of one session, labelled (by the client or the server), ready to insert. */
export interface NewPostureEvent extends ValidatedEvent {
  sessionId: string;
  userId: string | null;
}

/** What the event route needs to know about a session (cached for a few seconds by the event ingest). */
export interface SessionForEvents {
  id: string;
  userId: string | null;
  isPaused: boolean;
  ended: boolean;
  /** The owner's latest calibration baseline, the session's device preferred; null when never calibrated. */
  baselineAngle: number | null;
}

export type EndOutcome =
  | { kind: 'not_found' }
  | { kind: 'ended'; session: LiveSession; samples: EventSample[]; alreadyEnded: boolean };

export interface LiveSessionsRepository {
  insertSession(session: { id: string; userId: string | null; deviceId: string | null }): Promise<LiveSession>;
  findSession(id: string): Promise<LiveSession | null>;
  /** Conditional update: only a session that has not ended; null when none matched. */
  setPausedUnlessEnded(id: string, paused: boolean): Promise<LiveSession | null>;
  /**
   * Ends a session once: under a row lock, reads its events, asks `decide` for the totals and stores them. A
   * session that already ended keeps its totals (and `decide` is not called).
   */
  endSession(id: string, decide: (samples: EventSample[]) => SessionTotals): Promise<EndOutcome>;
  sampleEvents(sessionId: string): Promise<EventSample[]>;
  findSessionsForEvents(ids: readonly string[]): Promise<Map<string, SessionForEvents>>;
  /**
   * Stores the events whose session is open (not paused, not ended), in one statement: all events of a session
   * are stored or none. The session rows are share-locked while the statement runs, so an `end` (an exclusive
   * row update) either sees these events or makes the statement skip them: never an event after the totals.
   * @returns the stored events, in input order; events of sessions that were not open are missing
   */
  insertEventsIntoOpenSessions(events: readonly NewPostureEvent[]): Promise<PostureEvent[]>;
  listSessionEvents(sessionId: string, page: { afterId: number; limit: number }): Promise<PostureEvent[]>;
  /** Newest first. */
  latestUserEvents(userId: string, limit: number): Promise<PostureEvent[]>;
  /** Newest first. */
  listUserSessions(userId: string, page: { limit: number; offset: number }): Promise<LiveSession[]>;
}

export function createLiveSessionsRepository(db: Db): LiveSessionsRepository {
  const sampleEvents = (executor: Db | Transaction<DatabaseSchema>, sessionId: string) =>
    executor.selectFrom('posture_events').select(['label', 'angle', 'timestamp'])
      .where('session_id', '=', sessionId).orderBy('timestamp').orderBy('id').execute();

  return {
    async insertSession({ id, userId, deviceId }) {
      const row = await db.insertInto('live_sessions').values({ id, user_id: userId, device_id: deviceId })
        .returningAll().executeTakeFirstOrThrow();
      return toLiveSession(row);
    },
    async findSession(id) {
      const row = await db.selectFrom('live_sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toLiveSession(row) : null;
    },
    async setPausedUnlessEnded(id, paused) {
      const row = await db.updateTable('live_sessions').set({ is_paused: paused })
        .where('id', '=', id).where('ended_at', 'is', null).returningAll().executeTakeFirst();
      return row ? toLiveSession(row) : null;
    },
    endSession(id, decide) {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('live_sessions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (!row) return { kind: 'not_found' } as const;
        const samples = await sampleEvents(trx, id);
        if (row.ended_at !== null) return { kind: 'ended', session: toLiveSession(row), samples, alreadyEnded: true } as const;
        const totals = decide(samples);
        const ended = await trx.updateTable('live_sessions')
          .set({
            ended_at: sql<Date>`now()`,
            total_seconds: totals.totalSeconds,
            good_seconds: totals.goodSeconds,
            mild_seconds: totals.mildSeconds,
            bad_seconds: totals.badSeconds,
          })
          .where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        return { kind: 'ended', session: toLiveSession(ended), samples, alreadyEnded: false } as const;
      });
    },
    sampleEvents: (sessionId) => sampleEvents(db, sessionId),
    async findSessionsForEvents(ids) {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('live_sessions as s')
        .select(['s.id', 's.user_id', 's.is_paused', 's.ended_at'])
        .select((eb) => eb.selectFrom('calibrations as c').select('c.baseline_angle')
          .whereRef('c.user_id', '=', 's.user_id')
          .orderBy(sql`c.device_id IS NOT DISTINCT FROM s.device_id`, 'desc')
          .orderBy('c.created_at', 'desc')
          .limit(1)
          .as('baseline_angle'))
        .where('s.id', 'in', ids)
        .execute();
      return new Map(rows.map((r) => [r.id, {
        id: r.id, userId: r.user_id, isPaused: r.is_paused, ended: r.ended_at !== null, baselineAngle: r.baseline_angle,
      }]));
    },
    async insertEventsIntoOpenSessions(events) {
      if (events.length === 0) return [];
      const { rows } = await insertOpenEventsStatement(events).execute(db);
      // Rows come back in input order with whole sessions missing: walk both lists together.
      const stored: PostureEvent[] = [];
      let next = 0;
      for (const event of events) {
        const row = rows[next];
        if (!row || row.session_id !== event.sessionId) continue;
        next += 1;
        stored.push({
          ...event, id: Number(row.id), userId: row.user_id, timestamp: new Date(row.timestamp), createdAt: new Date(row.created_at),
        });
      }
      return stored;
    },
    async listSessionEvents(sessionId, { afterId, limit }) {
      const rows = await db.selectFrom('posture_events').selectAll()
        .where('session_id', '=', sessionId).where('id', '>', String(afterId))
        .orderBy('id').limit(limit).execute();
      return rows.map(toPostureEvent);
    },
    async latestUserEvents(userId, limit) {
      const rows = await db.selectFrom('posture_events').selectAll()
        .where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toPostureEvent);
    },
    async listUserSessions(userId, { limit, offset }) {
      const rows = await db.selectFrom('live_sessions').selectAll()
        .where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute();
      return rows.map(toLiveSession);
    },
  };
}

interface InsertedEventRow { id: string | number; session_id: string; user_id: string | null; timestamp: Date; created_at: Date }

/**
 * The event insert. One JSON parameter and a constant statement, whatever the batch size: cheaper to send and to
 * plan than a VALUES list with nine parameters per event. ORDER BY makes ids (and RETURNING) follow the input order.
 * The lateral lookup is the open-session guard, by primary key whatever the table's statistics say (a plain join was
 * planned as a scan of every session on PGlite, which has no autovacuum to gather them: 13 ms per insert at 20,000
 * sessions); it share-locks each session row.
 */
export function insertOpenEventsStatement(events: readonly NewPostureEvent[]) {
  const batch = JSON.stringify(events.map((e, ord) => ({
    ord, session_id: e.sessionId, label: e.label, score: e.score, angle: e.angle, neck_tilt: e.neckTilt,
    ts: e.timestamp, metadata: e.metadata, keypoints: e.keypoints,
  })));
  return sql<InsertedEventRow>`
    INSERT INTO posture_events (session_id, user_id, label, score, angle, neck_tilt, "timestamp", metadata, keypoints)
    SELECT v.session_id, s.user_id, v.label, v.score, v.angle, v.neck_tilt, COALESCE(v.ts, now()), v.metadata, v.keypoints
    FROM jsonb_to_recordset(${batch}::jsonb) AS v (ord int, session_id uuid, label text, score float8, angle float8,
      neck_tilt float8, ts timestamptz, metadata jsonb, keypoints jsonb)
    CROSS JOIN LATERAL (
      SELECT o.user_id FROM live_sessions o
      WHERE o.id = v.session_id AND o.ended_at IS NULL AND NOT o.is_paused
      FOR SHARE
    ) s
    ORDER BY v.ord
    RETURNING id, session_id, user_id, "timestamp", created_at`;
}

function toLiveSession(row: Selectable<LiveSessionsTable>): LiveSession {
  const totals = row.total_seconds === null ? null : {
    totalSeconds: row.total_seconds,
    goodSeconds: row.good_seconds ?? 0,
    mildSeconds: row.mild_seconds ?? 0,
    badSeconds: row.bad_seconds ?? 0,
  };
  return {
    id: row.id,
    userId: row.user_id,
    deviceId: row.device_id,
    isPaused: row.is_paused,
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    totals,
    createdAt: new Date(row.created_at),
  };
}

function toPostureEvent(row: Selectable<PostureEventsTable>): PostureEvent {
  return {
    id: Number(row.id),
    sessionId: row.session_id,
    userId: row.user_id,
    label: row.label,
    score: row.score,
    angle: row.angle,
    neckTilt: row.neck_tilt,
    timestamp: new Date(row.timestamp),
    metadata: row.metadata ?? {},
    keypoints: (row.keypoints as StoredKeypoints | null) ?? null,
    createdAt: new Date(row.created_at),
  };
}
