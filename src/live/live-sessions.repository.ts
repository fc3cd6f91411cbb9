import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../infra/db/database.ts';
import type { DatabaseSchema, LiveSessionsTable, PostureEventsTable } from '../infra/db/schema.ts';
import type { LiveSession, PostureEvent, SessionTotals, StoredKeypoints, ValidatedEvent } from './live-session.ts';
import { MAX_EVENT_GAP_SECONDS, type EventAggregate } from './session-summary.ts';

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
  /** Who is charged for the session's events per day: `user:<id>`, `ip:<address>` (anonymous), or `session:<id>`. */
  quotaSubject: string;
}

/** Open sessions that count against one user or one anonymous IP: not ended and started in the last `hours`. */
export interface OpenSessionCeiling {
  limit: number;
  hours: number;
}

export type StartOutcome =
  | { kind: 'started'; session: LiveSession }
  | { kind: 'refused'; retryAfterSeconds: number };

/** One request's share of a subject's daily event budget. */
export interface DailyCharge {
  subject: string;
  events: number;
}

export type EndOutcome =
  | { kind: 'not_found' }
  | { kind: 'ended'; session: LiveSession; aggregate: EventAggregate; alreadyEnded: boolean };

export interface LiveSessionsRepository {
  /**
   * Inserts the session unless its owner (the user, or for an anonymous session the client IP) already holds
   * `ceiling.limit` open sessions. Exact across processes: the count and the insert run under a transaction-scoped
   * advisory lock on the owner.
   */
  startSessionWithinCeiling(
    session: { id: string; userId: string | null; deviceId: string | null; clientIp: string },
    ceiling: OpenSessionCeiling,
  ): Promise<StartOutcome>;
  findSession(id: string): Promise<LiveSession | null>;
  /** Conditional update: only a session that has not ended; null when none matched. */
  setPausedUnlessEnded(id: string, paused: boolean): Promise<LiveSession | null>;
  /**
   * Ends a session once: under a row lock, aggregates its events in SQL (never loading them), asks `decide` for
   * the totals and stores them. A session that already ended keeps its totals (and `decide` is not called).
   */
  endSession(id: string, decide: (aggregate: EventAggregate) => SessionTotals): Promise<EndOutcome>;
  aggregateEvents(sessionId: string): Promise<EventAggregate>;
  /** Events already charged today (`day`: YYYY-MM-DD, UTC) per subject; subjects with none are missing. */
  dailyEventCounts(subjects: readonly string[], day: string): Promise<Map<string, number>>;
  /**
   * Adds each subject's charge unless that would take it past its limit (`user:` subjects `limits.user`, others
   * `limits.ip`), in one statement. @returns the subjects charged, each with its count for the day after the charge
   */
  chargeDailyEvents(charges: readonly DailyCharge[], day: string, limits: { user: number; ip: number }): Promise<Map<string, number>>;
  refundDailyEvents(charges: readonly DailyCharge[], day: string): Promise<void>;
  forgetDailyEventCountsBefore(day: string): Promise<void>;
  findSessionsForEvents(ids: readonly string[]): Promise<Map<string, SessionForEvents>>;
  /**
   * Stores the events whose session is open (not paused, not ended), in one statement: all events of a session
   * are stored or none. The session rows are share-locked while the statement runs, so an `end` (an exclusive
   * row update) either sees these events or makes the statement skip them: never an event after the totals.
   * @returns the stored events, in input order; events of sessions that were not open are missing
   */
  insertEventsIntoOpenSessions(events: readonly NewPostureEvent[]): Promise<PostureEvent[]>;
  /**
   * `chargeDailyEvents` and then `insertEventsIntoOpenSessions` of the events whose subject was charged, in one round
   * trip (each event names its subject, which must be one of `charges`).
   * @returns the subjects charged with their counts, and the stored events in input order
   */
  chargeAndInsertEvents(
    charges: readonly DailyCharge[], day: string, limits: { user: number; ip: number },
    events: ReadonlyArray<NewPostureEvent & { subject: string }>,
  ): Promise<{ charged: Map<string, number>; stored: PostureEvent[] }>;
  listSessionEvents(sessionId: string, page: { afterId: number; limit: number }): Promise<PostureEvent[]>;
  /** Newest first. */
  latestUserEvents(userId: string, limit: number): Promise<PostureEvent[]>;
  /** Newest first. */
  listUserSessions(userId: string, page: { limit: number; offset: number }): Promise<LiveSession[]>;
}

export function createLiveSessionsRepository(db: Db): LiveSessionsRepository {
  return {
    startSessionWithinCeiling({ id, userId, deviceId, clientIp }, { limit, hours }) {
      const owner = userId === null ? `ip:${clientIp}` : `user:${userId}`;
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`live-open:${owner}`}))`.execute(trx);
        let open = trx.selectFrom('live_sessions')
          .select((eb) => [
            eb.fn.countAll<number | string>().as('open'),
            sql<number | string | null>`EXTRACT(EPOCH FROM (min(created_at) + make_interval(hours => ${hours}) - now()))`.as('retry'),
          ])
          .where('ended_at', 'is', null)
          .where('created_at', '>', sql<Date>`now() - make_interval(hours => ${hours})`);
        open = userId === null
          ? open.where('user_id', 'is', null).where('client_ip', '=', clientIp)
          : open.where('user_id', '=', userId);
        const counted = await open.executeTakeFirstOrThrow();
        if (Number(counted.open) >= limit) {
          return { kind: 'refused', retryAfterSeconds: Math.max(1, Math.ceil(Number(counted.retry ?? 1))) } as const;
        }
        const row = await trx.insertInto('live_sessions')
          .values({ id, user_id: userId, device_id: deviceId, client_ip: userId === null ? clientIp : null })
          .returningAll().executeTakeFirstOrThrow();
        return { kind: 'started', session: toLiveSession(row) } as const;
      });
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
        const aggregate = await aggregateEvents(trx, id);
        if (row.ended_at !== null) return { kind: 'ended', session: toLiveSession(row), aggregate, alreadyEnded: true } as const;
        const totals = decide(aggregate);
        const ended = await trx.updateTable('live_sessions')
          .set({
            ended_at: sql<Date>`now()`,
            total_seconds: totals.totalSeconds,
            good_seconds: totals.goodSeconds,
            mild_seconds: totals.mildSeconds,
            bad_seconds: totals.badSeconds,
          })
          .where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        return { kind: 'ended', session: toLiveSession(ended), aggregate, alreadyEnded: false } as const;
      });
    },
    aggregateEvents: (sessionId) => aggregateEvents(db, sessionId),
    async dailyEventCounts(subjects, day) {
      if (subjects.length === 0) return new Map();
      const rows = await db.selectFrom('live_event_counts').select(['subject', 'events'])
        .where('day', '=', day).where('subject', 'in', [...subjects]).execute();
      return new Map(rows.map((r) => [r.subject, Number(r.events)]));
    },
    async chargeDailyEvents(charges, day, limits) {
      if (charges.length === 0) return new Map();
      const { rows } = await sql<{ subject: string; events: number | string }>`
        INSERT INTO live_event_counts (subject, day, events)
        SELECT c.subject, ${day}::date, c.events FROM jsonb_to_recordset(${JSON.stringify(charges)}::jsonb) AS c (subject text, events int)
        WHERE c.events <= CASE WHEN c.subject LIKE 'user:%' THEN ${limits.user}::int ELSE ${limits.ip}::int END
        ON CONFLICT (subject, day) DO UPDATE SET events = live_event_counts.events + EXCLUDED.events
        WHERE live_event_counts.events + EXCLUDED.events
          <= CASE WHEN EXCLUDED.subject LIKE 'user:%' THEN ${limits.user}::int ELSE ${limits.ip}::int END
        RETURNING subject, events`.execute(db);
      return new Map(rows.map((r) => [r.subject, Number(r.events)]));
    },
    async refundDailyEvents(charges, day) {
      for (const { subject, events } of charges) {
        await db.updateTable('live_event_counts').set({ events: sql<number>`GREATEST(events - ${events}::int, 0)` })
          .where('subject', '=', subject).where('day', '=', day).execute();
      }
    },
    async forgetDailyEventCountsBefore(day) {
      await db.deleteFrom('live_event_counts').where('day', '<', day).execute();
    },
    async findSessionsForEvents(ids) {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('live_sessions as s')
        .select(['s.id', 's.user_id', 's.is_paused', 's.ended_at', 's.client_ip'])
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
        quotaSubject: r.user_id !== null ? `user:${r.user_id}` : r.client_ip !== null ? `ip:${r.client_ip}` : `session:${r.id}`,
      }]));
    },
    async insertEventsIntoOpenSessions(events) {
      if (events.length === 0) return [];
      const { rows } = await insertOpenEventsStatement(events).execute(db);
      return storedEvents(events, rows);
    },
    async chargeAndInsertEvents(charges, day, limits, events) {
      if (charges.length === 0) return { charged: new Map(), stored: [] };
      const { rows } = await sql<InsertedEventRow & { subject: string | null; day_events: number | string | null }>`
        SELECT * FROM store_open_events(${JSON.stringify(charges)}::jsonb, ${day}::date, ${limits.user}::int,
          ${limits.ip}::int, ${eventBatch(events)}::jsonb)`.execute(db);
      const charged = new Map<string, number>();
      const inserted: InsertedEventRow[] = [];
      for (const row of rows) {
        if (row.subject !== null) charged.set(row.subject, Number(row.day_events));
        else inserted.push(row);
      }
      return { charged, stored: storedEvents(events.filter((e) => charged.has(e.subject)), inserted) };
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

interface AggregateRow {
  event_count: number | string;
  average_angle: number | null;
  median_gap: number | null;
  total: number | null;
  good: number | null;
  mild: number | null;
  bad: number | null;
  last_label: string | null;
}

/**
 * The summary's inputs in one pass over the session's events, in the database: each event's gap to the next (by
 * timestamp, then id; capped as in totalsFromEvents), summed per label, their median, and the last event's label.
 * A session may hold hundreds of thousands of events; reading them into memory to sum them held the event loop.
 */
async function aggregateEvents(executor: Db | Transaction<DatabaseSchema>, sessionId: string): Promise<EventAggregate> {
  const { rows } = await sql<AggregateRow>`
    WITH raw AS (
      SELECT lower(label) AS label, angle,
        EXTRACT(EPOCH FROM (lead("timestamp") OVER (ORDER BY "timestamp", id) - "timestamp"))::float8 AS gap
      FROM posture_events WHERE session_id = ${sessionId}
    ), gaps AS (
      -- LEAST skips NULLs: the last event's missing gap must stay NULL, not become the cap.
      SELECT label, angle, CASE WHEN gap IS NULL THEN NULL ELSE LEAST(gap, ${MAX_EVENT_GAP_SECONDS}::float8) END AS gap FROM raw
    )
    SELECT count(*) AS event_count, avg(angle)::float8 AS average_angle,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median_gap,
      sum(gap) AS total,
      sum(gap) FILTER (WHERE label = 'good') AS good,
      sum(gap) FILTER (WHERE label = 'mild') AS mild,
      sum(gap) FILTER (WHERE label = 'bad') AS bad,
      max(label) FILTER (WHERE gap IS NULL) AS last_label
    FROM gaps`.execute(executor);
  const row = rows[0]!;
  return {
    eventCount: Number(row.event_count),
    averageAngle: row.average_angle === null ? null : Number(row.average_angle),
    medianGap: Number(row.median_gap ?? 0),
    gapSeconds: {
      totalSeconds: Number(row.total ?? 0),
      goodSeconds: Number(row.good ?? 0),
      mildSeconds: Number(row.mild ?? 0),
      badSeconds: Number(row.bad ?? 0),
    },
    lastLabel: row.last_label,
  };
}

interface InsertedEventRow { id: string | number; session_id: string; user_id: string | null; timestamp: Date; created_at: Date }

/**
 * The event insert: `insert_open_events` (migration 010), one JSON parameter whatever the batch size, its statement
 * planned once per connection. Inside, ORDER BY makes ids (and the rows returned) follow the input order, and a
 * lateral lookup is the open-session guard, by primary key whatever the table's statistics say (a plain join was
 * planned as a scan of every session on PGlite, which has no autovacuum to gather them: 13 ms per insert at 20,000
 * sessions); it share-locks each session row.
 */
export function insertOpenEventsStatement(events: readonly NewPostureEvent[]) {
  return sql<InsertedEventRow>`SELECT * FROM insert_open_events(${eventBatch(events)}::jsonb)`;
}

/** The batch parameter of insert_open_events (and store_open_events, which also reads `subject`). */
function eventBatch(events: ReadonlyArray<NewPostureEvent & { subject?: string }>): string {
  return JSON.stringify(events.map((e, ord) => ({
    ord, session_id: e.sessionId, label: e.label, score: e.score, angle: e.angle, neck_tilt: e.neckTilt,
    ts: e.timestamp, metadata: e.metadata, keypoints: e.keypoints, subject: e.subject,
  })));
}

/** The inserted rows come back in input order with whole sessions missing: walks both lists together. */
function storedEvents(events: readonly NewPostureEvent[], rows: readonly InsertedEventRow[]): PostureEvent[] {
  const stored: PostureEvent[] = [];
  let next = 0;
  for (const event of events) {
    const row = rows[next];
    if (!row || row.session_id !== event.sessionId) continue;
    next += 1;
    const { subject: _subject, ...fields } = event as NewPostureEvent & { subject?: string };
    stored.push({
      ...fields, id: Number(row.id), userId: row.user_id, timestamp: new Date(row.timestamp), createdAt: new Date(row.created_at),
    });
  }
  return stored;
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
