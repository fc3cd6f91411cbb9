import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/helpers/test-app.ts';
import type { DatabaseHandle } from '../infra/db/database.ts';
import { migrate } from '../infra/db/migrator.ts';
import { createLiveSessionsRepository, insertOpenEventsStatement, type NewPostureEvent } from './live-sessions.repository.ts';

let database: DatabaseHandle;
let drop: () => Promise<void>;
const sessions: string[] = [];

beforeAll(async () => {
  ({ database, drop } = await openTestDatabase());
  await migrate(database);
  for (let i = 0; i < 5; i++) {
    const ids = Array.from({ length: 1_000 }, () => randomUUID());
    sessions.push(...ids);
    await database.db.insertInto('live_sessions').values(ids.map((id) => ({ id, user_id: null, device_id: 'plan' }))).execute();
  }
});

afterAll(() => drop());

const event = (sessionId: string): NewPostureEvent => ({
  sessionId, userId: null, label: null, score: null, angle: 10, neckTilt: null, timestamp: null, metadata: {}, keypoints: null,
});

describe('the event insert', () => {
  // Its cost must not grow with the number of sessions ever started: PGlite never gathers table statistics (no
  // autovacuum), and a join planned without them read every session row on every insert.
  it('finds each session by primary key, never by reading the sessions table', async () => {
    // The statement inside insert_open_events, planned as the function plans it: once, generic (its batch unknown).
    const { rows: [fn] } = await sql<{ prosrc: string }>`SELECT prosrc FROM pg_proc WHERE proname = 'insert_open_events'`.execute(database.db);
    const body = fn!.prosrc;
    const statement = body.slice(body.indexOf('RETURN QUERY') + 'RETURN QUERY'.length, body.lastIndexOf(';')).replace('jsonb_to_recordset(batch)', 'jsonb_to_recordset($1)');
    expect(statement).toContain('jsonb_to_recordset($1)');
    const plan = await database.db.connection().execute(async (conn) => {
      await sql.raw(`PREPARE event_insert(jsonb) AS ${statement}`).execute(conn);
      try {
        await sql`SET plan_cache_mode = force_generic_plan`.execute(conn);
        const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN EXECUTE event_insert(NULL)`.execute(conn);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await sql`RESET plan_cache_mode`.execute(conn);
        await sql`DEALLOCATE event_insert`.execute(conn);
      }
    });
    expect(plan).toMatch(/Index Scan using live_sessions_pkey on live_sessions/);
    expect(plan).not.toMatch(/Seq Scan on live_sessions/);
  });

  it('stores the events of open sessions in input order and skips ended ones', async () => {
    await database.db.updateTable('live_sessions').set({ ended_at: new Date() }).where('id', '=', sessions[20]!).execute();
    const { rows } = await insertOpenEventsStatement([event(sessions[21]!), event(sessions[20]!), event(sessions[22]!)])
      .execute(database.db);
    expect(rows.map((r) => r.session_id)).toEqual([sessions[21], sessions[22]]);
    expect(Number(rows[1]!.id)).toBeGreaterThan(Number(rows[0]!.id));
  });

  it('charges and stores in one call: only the events of subjects charged, in input order, with the counts after the charge', async () => {
    const repository = createLiveSessionsRepository(database.db);
    const day = '2026-12-01';
    // Subject b already holds 9 of its 10: this charge of 2 would pass the ceiling and is refused whole.
    await repository.chargeDailyEvents([{ subject: 'ip:b', events: 9 }], day, { user: 10, ip: 10 });
    const [a1, b1, a2] = [sessions[30]!, sessions[31]!, sessions[32]!];
    const { charged, stored } = await repository.chargeAndInsertEvents(
      [{ subject: 'ip:a', events: 2 }, { subject: 'ip:b', events: 2 }], day, { user: 10, ip: 10 },
      [{ ...event(a1), subject: 'ip:a' }, { ...event(b1), subject: 'ip:b' }, { ...event(b1), subject: 'ip:b' }, { ...event(a2), subject: 'ip:a' }],
    );
    expect([...charged]).toEqual([['ip:a', 2]]);
    expect(stored.map((e) => e.sessionId)).toEqual([a1, a2]);
    expect(stored[1]!.id).toBeGreaterThan(stored[0]!.id);
    expect(stored[0]).not.toHaveProperty('subject');
    const counts = await database.db.selectFrom('live_event_counts').select(['subject', 'events']).where('day', '=', day)
      .orderBy('subject').execute();
    expect(counts.map((c) => [c.subject, Number(c.events)])).toEqual([['ip:a', 2], ['ip:b', 9]]);
    const rows = await database.db.selectFrom('posture_events').select('session_id').where('session_id', 'in', [a1, b1, a2]).execute();
    expect(rows.map((r) => r.session_id).sort()).toEqual([a1, a2].sort());
  });
});
