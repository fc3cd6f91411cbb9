import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../test/helpers/test-app.ts';
import type { DatabaseHandle } from '../infra/db/database.ts';
import { migrate } from '../infra/db/migrator.ts';
import { createUsersRepository } from '../users/users.repository.ts';
import { createAnalysesRepository, type AnalysesRepository } from './analyses.repository.ts';
import { NO_SUBJECT_DETAILS } from './subject-details.ts';

let database: DatabaseHandle;
let drop: () => Promise<void>;
let analyses: AnalysesRepository;

beforeAll(async () => {
  ({ database, drop } = await openTestDatabase());
  await migrate(database);
  analyses = createAnalysesRepository(database.db);
});
afterAll(() => drop());

async function newUserId(): Promise<string> {
  const id = randomUUID();
  await createUsersRepository(database.db).insertUser({ id, email: `${id}@example.com`, name: 'Clinic', passwordHash: 'x' });
  return id;
}

/**
 * An analysis of `name` created at `day` (days after 2025-01-01), left in `status`. Creation times are set, not
 * left to now(): two inserts in a row may share a timestamp on a fast machine.
 */
async function analysisOf(userId: string, name: string | null, day: number, status: 'completed' | 'failed' | 'pending' = 'completed'): Promise<string> {
  const id = randomUUID();
  await analyses.reserve({
    id, userId, sessionId: `s_${id}`, modelName: 'cx', profile: 'stance',
    subject: { ...NO_SUBJECT_DETAILS, name },
  });
  await sql`UPDATE analyses SET created_at = ${new Date(Date.UTC(2025, 0, 1 + day))} WHERE id = ${id}`.execute(database.db);
  if (status !== 'pending') {
    await analyses.claim(id, randomUUID(), 15);
    if (status === 'completed') await analyses.complete(id, { views: {} }, 70 + day);
    else await analyses.fail(id, 'broken');
  }
  return id;
}

describe('findPreviousAssessment', () => {
  it("finds the same person's latest completed analysis before this one, name compared without case or spaces", async () => {
    const user = await newUserId();
    const first = await analysisOf(user, 'Ada Lovelace', 1);
    const second = await analysisOf(user, 'ADA  lovelace', 3);
    await analysisOf(user, 'Ada Lovelace', 4, 'failed');
    await analysisOf(user, 'Ada Lovelace', 5, 'pending');
    await analysisOf(user, 'Ada King', 6);
    await analysisOf(await newUserId(), 'Ada Lovelace', 7); // another account's Ada
    const current = await analysisOf(user, ' a d a lovelace', 8, 'pending');

    expect((await analyses.findPreviousAssessment(current))?.id).toBe(second);
    expect((await analyses.findPreviousAssessment(second))?.id).toBe(first);
    expect(await analyses.findPreviousAssessment(first)).toBeNull();
    // With its stored score and result, which the report compares with.
    expect(await analyses.findPreviousAssessment(second)).toMatchObject({ overallScore: 71, result: { views: {} } });
  });

  it('finds none for an analysis without a name, nor for an unknown id', async () => {
    const user = await newUserId();
    await analysisOf(user, null, 1);
    expect(await analyses.findPreviousAssessment(await analysisOf(user, null, 2))).toBeNull();
    expect(await analyses.findPreviousAssessment(randomUUID())).toBeNull();
  });

  it('keeps the person through a retry', async () => {
    const user = await newUserId();
    const id = randomUUID();
    const subject = { name: 'Grace Hopper', birthDate: null, age: 85, notes: 'Second visit.\nKnee pain.' };
    await analyses.reserve({ id, userId: user, sessionId: 'retried', modelName: 'cx', profile: 'stance', subjectHeightCm: 167, subject });
    await analyses.claim(id, randomUUID(), 15);
    await analyses.complete(id, { views: {} }, 80);
    expect(await analyses.resetForRetry(id)).toMatchObject({ status: 'pending', subject, subjectHeightCm: 167 });
  });

  it('refuses both a birth date and an age, and a name over 100 characters, in the database too', async () => {
    const user = await newUserId();
    const reserve = (subject: typeof NO_SUBJECT_DETAILS) =>
      analyses.reserve({ id: randomUUID(), userId: user, sessionId: randomUUID(), modelName: 'cx', profile: 'stance', subject });
    await expect(reserve({ ...NO_SUBJECT_DETAILS, birthDate: '1990-01-01', age: 35 })).rejects.toThrow(/subject_age_or_birth_date/);
    await expect(reserve({ ...NO_SUBJECT_DETAILS, name: 'x'.repeat(101) })).rejects.toThrow(/subject_name/);
    expect((await reserve({ ...NO_SUBJECT_DETAILS, name: 'é'.repeat(100) }))?.subject.name).toHaveLength(100);
  });
});
