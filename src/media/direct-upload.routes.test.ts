import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalysesRepository } from '../analysis/analyses.repository.ts';
import { queueOptions } from '../infra/adapters.ts';
import { listProfiles } from '../posture/index.ts';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { pathOf } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { DirectUploadService } from './direct-upload.service.ts';
import { MediaUploadService } from './media-upload.service.ts';
import { hasWebhookSecret, parseBucketNotification, parseMediaKey } from './minio-webhook.ts';

const SECRET = 'whsec-direct-upload-test-0123456789';
const MAX_FILE_BYTES = 8 * 1024 * 1024;
let t: TestApp;
let user: TestUser;
let jpg: Buffer;
let mp4: Buffer;

beforeAll(async () => {
  t = await createTestApp({ uploads: { maxFileBytes: MAX_FILE_BYTES, webhookSecret: SECRET } });
  user = await newUser(t.app);
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  mp4 = await readFile('test/fixtures/sports2d_demo.mp4');
});
afterAll(async () => {
  await t.close();
});

const session = (() => {
  let n = 0;
  return () => `d_${Date.now().toString(36)}_${++n}`;
})();

type Views = Record<string, { filename: string; content_type?: string; size?: number }>;
const TWO_VIEWS: Views = { front: { filename: 'me.jpg' }, left: { filename: 'walk.MP4' } };

function presign(sessionId: string, views: Views = TWO_VIEWS, who: TestUser = user, extra: Record<string, string | number> = {}) {
  return t.app.inject({
    method: 'POST', url: '/api/video/upload/presign', headers: bearer(who.token), payload: { session_id: sessionId, views, ...extra },
  });
}

function finalize(sessionId: string, who: TestUser = user) {
  return t.app.inject({ method: 'POST', url: '/api/video/upload/finalize', headers: bearer(who.token), payload: { session_id: sessionId } });
}

async function put(upload: { url: string; headers: Record<string, string> }, content: Buffer) {
  const response = await t.app.inject({ method: 'PUT', url: pathOf(upload.url), headers: upload.headers, payload: content });
  expect(response.statusCode).toBe(200);
}

/** Presigns front (jpg) and left (mp4) and PUTs the given contents (default: the real fixtures). */
async function uploadedSession(contents: { front?: Buffer | null; left?: Buffer | null } = {}) {
  const id = session();
  const response = await presign(id);
  expect(response.statusCode).toBe(201);
  const body = response.json();
  const front = contents.front === undefined ? jpg : contents.front;
  const left = contents.left === undefined ? mp4 : contents.left;
  if (front) await put(body.uploads.front, front);
  if (left) await put(body.uploads.left, left);
  return { id, analysisId: body.analysis_id as string, body };
}

function notification(...keys: string[]) {
  return {
    EventName: 's3:ObjectCreated:Put',
    Records: keys.map((key) => ({
      eventVersion: '2.0', eventSource: 'minio:s3', eventName: 's3:ObjectCreated:Put',
      s3: { bucket: { name: 'postura' }, object: { key: encodeURIComponent(key), size: 1 } },
    })),
  };
}

function webhook(payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${SECRET}` }) {
  return t.app.inject({ method: 'POST', url: '/api/minio/webhook', headers, payload: payload as Record<string, unknown> });
}

/** Every analyse-session job ever created for the analysis, whatever its state. */
async function jobsFor(analysisId: string): Promise<number> {
  const { schema } = queueOptions(t.config);
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(`${schema}.job`)}
    WHERE name = 'analyse-session' AND data->>'analysisId' = ${analysisId}`.execute(t.database.db);
  return Number(result.rows[0]!.n);
}

async function keysOf(sessionId: string, who: TestUser = user): Promise<string[]> {
  return (await t.store.list(`videos/${who.id}/${sessionId}/`)).map((o) => o.key).sort();
}

function analysisOf(analysisId: string) {
  return t.app.inject({ url: `/api/analysis/${analysisId}`, headers: bearer(user.token) });
}

describe('POST /api/video/upload/presign', () => {
  it('reserves the session and answers a PUT URL per view, keyed by the declared extension', async () => {
    const id = session();
    const response = await presign(id, { front: { filename: 'me.JPEG', size: jpg.length }, back: { filename: 'b.mov', content_type: 'video/quicktime' } });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      session_id: id, model: 'cx', profile: 'stance', expires_in: t.config.uploads.signedUrlTtlSeconds,
      finalize_url: '/api/video/upload/finalize',
      uploads: {
        // A key of its own per presign: finalize moves the checked file to `cx_front.jpg`, where no URL can write.
        front: { method: 'PUT', key: expect.stringMatching(new RegExp(`^videos/${user.id}/${id}/upload-[0-9a-f]{24}_front\\.jpg$`)), headers: { 'Content-Type': 'image/jpeg' } },
        back: { method: 'PUT', key: expect.stringMatching(new RegExp(`^videos/${user.id}/${id}/upload-[0-9a-f]{24}_back\\.mov$`)), headers: { 'Content-Type': 'video/quicktime' } },
      },
    });
    expect((await analysisOf(body.analysis_id)).json()).toMatchObject({ status: 'pending', session_id: id });
    // The same 409 as the multipart upload, by either route.
    expect((await presign(id)).statusCode).toBe(409);
    expect((await presign(id)).json()).toMatchObject({ error: 'session_id already exists' });
  });

  it.each([
    ['an extension that is not media', { front: { filename: 'notes.txt' } }, /Unsupported file type/],
    ['no extension', { front: { filename: 'video' } }, /Unsupported file type/],
    ['a declared size over the limit', { front: { filename: 'big.mp4', size: MAX_FILE_BYTES + 1 } }, /File too large/],
    ['an unknown view', { side: { filename: 'a.jpg' } }, /Unknown view "side"/],
    ['no view', {}, /Declare 1 to 4 views/],
    ['a content type of the other kind', { front: { filename: 'a.jpg', content_type: 'video/mp4' } }, /does not match/],
    ['a file of unknown view beside a named view', { file: { filename: 'me.jpg' }, front: { filename: 'f.jpg' } }, /send "file" alone, or name its view/],
  ])('refuses %s with 400 and reserves nothing', async (_label, views: Views, message) => {
    const id = session();
    const response = await presign(id, views);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(message);
    expect((await presign(id, { front: { filename: 'a.jpg' } })).statusCode).toBe(201); // the id is still free
  });

  it('checks session id, model and token like the multipart upload', async () => {
    expect((await presign('../x')).json().error).toMatch(/Invalid session_id/);
    expect((await presign(session(), TWO_VIEWS, user, { model: 'zz' })).json()).toMatchObject({ available_models: ['cx', 'gy'] });
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/video/upload/presign', payload: { session_id: 'x', views: TWO_VIEWS } });
    expect(anonymous.statusCode).toBe(401);
  });

  it("keeps the subject's height like the multipart upload, and refuses one out of range", async () => {
    const refused = await presign(session(), TWO_VIEWS, user, { height_cm: 17 });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatch(/Invalid height_cm: 17/);
    const response = await presign(session(), TWO_VIEWS, user, { height_cm: 181 });
    expect(response.statusCode).toBe(201);
    expect((await createAnalysesRepository(t.database.db).findById(response.json().analysis_id))?.subjectHeightCm).toBe(181);
  });

  it('keeps the person assessed like the multipart upload, and refuses a bad field, reserving nothing', async () => {
    const analyses = createAnalysesRepository(t.database.db);
    const response = await presign(session(), TWO_VIEWS, user, { subject_name: 'Grace  Hopper ', subject_age: 85, subject_notes: 'Knee pain.' });
    expect(response.statusCode).toBe(201);
    expect((await analyses.findById(response.json().analysis_id))?.subject)
      .toEqual({ name: 'Grace  Hopper', birthDate: null, age: 85, notes: 'Knee pain.' });
    for (const [extra, message] of [
      [{ subject_age: 42.5 }, /^Invalid subject_age: 42\.5/],
      [{ subject_birth_date: '2999-01-01' }, /^Invalid subject_birth_date: 2999-01-01/],
      [{ subject_name: 'y'.repeat(101) }, /^Invalid subject_name: 101 characters/],
    ] as const) {
      const id = session();
      const refused = await presign(id, TWO_VIEWS, user, extra);
      expect(refused.statusCode, JSON.stringify(extra)).toBe(400);
      expect(refused.json().error).toMatch(message);
      expect(await analyses.findBySession(user.id, id)).toBeNull();
    }
  });

  it('keeps the chosen person like the multipart upload, as text or a JSON number, and refuses a bad one', async () => {
    const analyses = createAnalysesRepository(t.database.db);
    for (const person of ['x', '1,2@t', 0]) {
      const id = session();
      const refused = await presign(id, TWO_VIEWS, user, { person });
      expect(refused.statusCode, String(person)).toBe(400);
      expect(refused.json().error).toMatch(/^Invalid person: /);
      expect(await analyses.findBySession(user.id, id)).toBeNull();
      expect(await t.store.list(`videos/${user.id}/${id}/`)).toEqual([]);
    }
    const byNumber = await presign(session(), TWO_VIEWS, user, { person: 3 });
    expect(byNumber.statusCode).toBe(201);
    expect((await analyses.findById(byNumber.json().analysis_id))?.subjectChoice).toEqual({ kind: 'id', id: 3 });
    const byPoint = await presign(session(), TWO_VIEWS, user, { person: '100,200@1' });
    expect((await analyses.findById(byPoint.json().analysis_id))?.subjectChoice).toEqual({ kind: 'point', x: 100, y: 200, t: 1 });
  });
});

describe('POST /api/video/upload/finalize', () => {
  it('checks the uploaded image and video, records both and queues one analysis', async () => {
    const { id, analysisId } = await uploadedSession();
    const waitingBefore = (await t.queue.stats())['analyse-session'] ?? 0;
    expect(await jobsFor(analysisId)).toBe(0);
    const response = await finalize(id);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      message: 'All files uploaded successfully. 2 files uploaded. Analysis will begin automatically.',
      session_id: id, model: 'cx', analysis_id: analysisId,
      uploaded_files: {
        front: { filename: 'cx_front.jpg', original_filename: 'me.jpg', view: 'front', file_type: 'image' },
        left: { filename: 'cx_left.mp4', original_filename: 'walk.MP4', view: 'left', file_type: 'video' },
      },
    });
    expect(body.views_uploaded.sort()).toEqual(['front', 'left']);
    const file = await t.app.inject({ url: pathOf(body.uploaded_files.left.file_url) });
    expect(file.rawPayload.equals(mp4)).toBe(true);
    expect(await jobsFor(analysisId)).toBe(1);
    expect((await t.queue.stats())['analyse-session']).toBe(waitingBefore + 1);
    expect((await analysisOf(analysisId)).json()).toMatchObject({ status: 'pending' });
    expect(await createAnalysesRepository(t.database.db).mediaFiles(analysisId)).toHaveLength(2);
    // The manifest is gone: only the media remain under the session.
    expect(await keysOf(id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`, `videos/${user.id}/${id}/cx_left.mp4`]);

    const again = await finalize(id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'Analysis already queued', analysis_id: analysisId });
    expect(await jobsFor(analysisId)).toBe(1);
  });

  it('reports a disguised file and a view never uploaded (207), deleting the bad object', async () => {
    const { id, analysisId } = await uploadedSession({ front: Buffer.from('just some text, not a picture'), left: mp4 });
    const response = await finalize(id);
    expect(response.statusCode).toBe(207);
    expect(response.json()).toMatchObject({
      message: 'Partial upload success. 1 files uploaded.', views_uploaded: ['left'],
      errors: [{ field: 'front', filename: 'me.jpg', error: expect.stringMatching(/Unsupported file type/) }],
    });
    expect(await keysOf(id)).toEqual([`videos/${user.id}/${id}/cx_left.mp4`]);
    expect(await jobsFor(analysisId)).toBe(1);

    const partial = await uploadedSession({ left: null });
    const missing = await finalize(partial.id);
    expect(missing.statusCode).toBe(207);
    expect(missing.json().errors).toEqual([{ field: 'left', filename: 'walk.MP4', error: expect.stringMatching(/Not uploaded/) }]);
  });

  it('refuses a video whose body is garbage and an image uploaded as the video view', async () => {
    const { id, analysisId } = await uploadedSession({ front: jpg, left: Buffer.concat([mp4.subarray(0, 64), Buffer.alloc(50_000, 7)]) });
    const response = await finalize(id);
    expect(response.statusCode).toBe(207);
    expect(response.json().errors[0]).toMatchObject({ field: 'left', error: expect.stringMatching(/corrupt or unreadable/) });
    expect(await jobsFor(analysisId)).toBe(1);

    const swapped = await uploadedSession({ front: jpg, left: jpg });
    const body = (await finalize(swapped.id)).json();
    expect(body.errors[0]).toMatchObject({ field: 'left', error: expect.stringMatching(/is an image but walk.MP4 was declared as a video/) });
  });

  it('answers 400 when no view is acceptable, frees the session and queues nothing', async () => {
    const { id, analysisId } = await uploadedSession({ front: Buffer.from('text'), left: null });
    const response = await finalize(id);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'No files were uploaded successfully' });
    expect(response.json().details.join(' ')).toMatch(/Unsupported file type.*Not uploaded/);
    expect(await keysOf(id)).toEqual([]);
    expect(await jobsFor(analysisId)).toBe(0);
    expect((await analysisOf(analysisId)).statusCode).toBe(404);
    expect((await presign(id)).statusCode).toBe(201);
  });

  it("answers 404 for another user's session or an unknown one", async () => {
    const { id, analysisId } = await uploadedSession();
    const other = await newUser(t.app);
    expect((await finalize(id, other)).statusCode).toBe(404);
    expect((await finalize('never-presigned')).statusCode).toBe(404);
    expect(await jobsFor(analysisId)).toBe(0);
    expect((await finalize(id)).statusCode).toBe(201);
  });
});

describe('POST /api/minio/webhook', () => {
  it('finalizes a session once every reserved view is announced, with the secret as MinIO sends it', async () => {
    const { id, analysisId, body } = await uploadedSession();
    const first = await webhook(notification(body.uploads.front.key));
    expect(first.statusCode).toBe(200);
    // Only the front was announced, but both objects are there: the session is complete and gets queued.
    expect(first.json()).toEqual({ processed: 1, queued: [{ session_id: id, analysis_id: analysisId }], skipped: [] });
    expect(await jobsFor(analysisId)).toBe(1);
    // A repeated delivery is harmless.
    const repeat = await webhook(notification(body.uploads.left.key), { 'x-webhook-secret': SECRET });
    expect(repeat.json()).toEqual({ processed: 0, queued: [], skipped: [{ key: body.uploads.left.key, reason: 'Analysis already queued' }] });
    expect(await jobsFor(analysisId)).toBe(1);
    expect((await finalize(id)).statusCode).toBe(409);
  });

  it('waits while a reserved view is missing, then queues when it arrives', async () => {
    const { analysisId, body } = await uploadedSession({ left: null });
    const early = await webhook(notification(body.uploads.front.key));
    expect(early.json()).toEqual({ processed: 1, queued: [], skipped: [] });
    expect(await jobsFor(analysisId)).toBe(0);
    await put(body.uploads.left, mp4);
    const late = await webhook(notification(body.uploads.left.key));
    expect(late.json().queued).toHaveLength(1);
    expect(await jobsFor(analysisId)).toBe(1);
  });

  it.each([
    ['no secret', {}],
    ['a wrong secret', { authorization: 'Bearer not-the-secret' }],
    ['a wrong X-Webhook-Secret', { 'x-webhook-secret': `${SECRET}x` }],
  ])('answers 401 with %s and queues nothing', async (_label, headers: Record<string, string>) => {
    const { analysisId, body } = await uploadedSession();
    const response = await webhook(notification(body.uploads.front.key, body.uploads.left.key), headers);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthenticated' });
    expect(await jobsFor(analysisId)).toBe(0);
  });

  it('skips unknown sessions, foreign keys and malformed records without failing the good one', async () => {
    const { id, analysisId, body } = await uploadedSession();
    const unknown = `videos/${user.id}/no-such-session/cx_front.jpg`;
    const payload = notification(unknown, 'some/other/object.txt', `videos/${user.id}/${id}/direct-upload.json`, body.uploads.front.key);
    payload.Records.push({ eventName: 's3:ObjectCreated:Put' } as never);
    payload.Records.push({ ...payload.Records[0]!, eventName: 's3:ObjectRemoved:Delete' });
    const response = await webhook(payload);
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report.processed).toBe(1);
    expect(report.queued).toEqual([{ session_id: id, analysis_id: analysisId }]);
    expect(report.skipped).toEqual(expect.arrayContaining([
      { key: unknown, reason: 'Unknown session' },
      { key: 'some/other/object.txt', reason: 'Not a media upload key' },
      { key: `videos/${user.id}/${id}/direct-upload.json`, reason: 'Not a media upload key' },
      { key: '#4', reason: expect.stringMatching(/Malformed/) },
      { key: unknown, reason: expect.stringMatching(/Not an object creation/) },
    ]));
    expect(report.skipped).toHaveLength(5);
    expect(await jobsFor(analysisId)).toBe(1);
  });

  it('queues exactly one job when the webhook and the finalize route race', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { id, analysisId, body } = await uploadedSession();
      const [viaRoute, viaWebhook] = await Promise.all([finalize(id), webhook(notification(body.uploads.left.key))]);
      const routeWon = viaRoute.statusCode === 201;
      const webhookWon = viaWebhook.json().queued.length === 1;
      expect(routeWon !== webhookWon).toBe(true);
      if (!routeWon) expect(viaRoute.statusCode).toBe(409);
      expect(await jobsFor(analysisId)).toBe(1);
    }
  });
});

describe('a signed PUT URL is single use and dies at finalize or delete', () => {
  const html = Buffer.from('<!doctype html><script>alert(document.domain)</script>');
  const putAgain = (upload: { url: string; headers: Record<string, string> }, content: Buffer) =>
    t.app.inject({ method: 'PUT', url: pathOf(upload.url), headers: upload.headers, payload: content });

  it('refuses a PUT after finalize and leaves the checked object unchanged', async () => {
    const { id, body } = await uploadedSession();
    expect((await finalize(id)).statusCode).toBe(201);
    const late = await putAgain(body.uploads.front, html);
    expect([403, 409]).toContain(late.statusCode);
    expect(await t.store.getBuffer(`videos/${user.id}/${id}/cx_front.jpg`)).toEqual(jpg);
    expect(await keysOf(id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`, `videos/${user.id}/${id}/cx_left.mp4`]);
  });

  it('refuses a PUT after the session is deleted and stores nothing', async () => {
    const id = session();
    const { uploads } = (await presign(id)).json();
    const deleted = await t.app.inject({ method: 'POST', url: '/api/video/delete', headers: bearer(user.token), payload: { session_id: id } });
    expect(deleted.statusCode).toBe(200);
    const late = await putAgain(uploads.front, jpg);
    expect([403, 409]).toContain(late.statusCode);
    expect(await keysOf(id)).toEqual([]);
  });

  it('refuses a second PUT to the same URL, before finalize too', async () => {
    const { id, body } = await uploadedSession({ left: null });
    const again = await putAgain(body.uploads.front, html);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: expect.stringMatching(/already used/) });
    expect(await t.store.getBuffer(body.uploads.front.key)).toEqual(jpg);
    // A URL that was never used is still good.
    expect((await putAgain(body.uploads.left, mp4)).statusCode).toBe(200);
    expect((await finalize(id)).statusCode).toBe(201);
  });

  it('withdraws the permit of a PUT still on the wire when its session is deleted meanwhile', async () => {
    const id = session();
    const { uploads } = (await presign(id)).json();
    const service = new DirectUploadService({
      uploads: new MediaUploadService({
        analyses: createAnalysesRepository(t.database.db), store: t.store, queue: t.queue, models: () => ['cx'], profiles: listProfiles, maxFileBytes: MAX_FILE_BYTES,
      }),
      analyses: createAnalysesRepository(t.database.db), store: t.store, queue: t.queue, maxFileBytes: MAX_FILE_BYTES, signedUrlTtlSeconds: 60,
    });
    const permit = await service.authorize(uploads.front.key);
    await expect(service.authorize(uploads.front.key)).rejects.toMatchObject({ code: 'conflict' }); // in flight here
    expect(await permit.confirm()).toBe(true);
    await t.app.inject({ method: 'POST', url: '/api/video/delete', headers: bearer(user.token), payload: { session_id: id } });
    expect(await permit.confirm()).toBe(false); // the route then deletes what the body stored
    permit.release();
    await expect(service.authorize(uploads.front.key)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('takes the upload away from its URL before checking it, so a late PUT cannot swap the checked bytes', async () => {
    const { id, analysisId, body } = await uploadedSession();
    const service = new DirectUploadService({
      uploads: new MediaUploadService({
        analyses: createAnalysesRepository(t.database.db), store: t.store, queue: t.queue, models: () => ['cx'], profiles: listProfiles, maxFileBytes: MAX_FILE_BYTES,
      }),
      analyses: createAnalysesRepository(t.database.db), store: t.store, queue: t.queue, maxFileBytes: MAX_FILE_BYTES, signedUrlTtlSeconds: 60,
    });
    // What an S3 presigned URL (which no gate guards) could still do after finalize: write its own key.
    await service.finalizeSession(user.id, id);
    await t.store.putBuffer(body.uploads.front.key, html, { contentType: 'image/jpeg' });
    expect(await t.store.getBuffer(`videos/${user.id}/${id}/cx_front.jpg`)).toEqual(jpg);
    const files = (await analysisOf(analysisId)).json();
    expect(JSON.stringify(files)).not.toContain('upload-');
  });
});

describe('the exactly-once guard across processes', () => {
  it('lets only one of two services (as two API processes would) queue the analysis', async () => {
    const analyses = createAnalysesRepository(t.database.db);
    const apiProcess = () => {
      const uploads = new MediaUploadService({
        analyses, store: t.store, queue: t.queue, models: () => ['cx', 'gy'], profiles: listProfiles, maxFileBytes: MAX_FILE_BYTES,
      });
      return new DirectUploadService({ uploads, analyses, store: t.store, queue: t.queue, maxFileBytes: MAX_FILE_BYTES, signedUrlTtlSeconds: 60 });
    };
    const { id, analysisId } = await uploadedSession();
    const outcomes = await Promise.allSettled([apiProcess().finalizeSession(user.id, id), apiProcess().finalizeSession(user.id, id)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'conflict', message: 'Analysis already queued' });
    expect(await jobsFor(analysisId)).toBe(1);
    expect(await keysOf(id)).toHaveLength(2); // the loser deleted nothing
  });
});

describe('webhook authentication', () => {
  it('refuses, per client IP, every call once too many carried a wrong secret, the right one included', async () => {
    const from = (ip: string, headers: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/api/minio/webhook', headers, payload: {}, remoteAddress: ip });
    const limit = t.config.uploads.webhookFailedAuthPerIp;
    for (let i = 0; i < limit; i += 1) expect((await from('10.77.0.1', { authorization: `Bearer guess-${i}` })).statusCode).toBe(401);
    expect((await from('10.77.0.1', { authorization: 'Bearer one-more-guess' })).statusCode).toBe(429);
    const right = await from('10.77.0.1', { authorization: `Bearer ${SECRET}` });
    expect(right.statusCode).toBe(429);
    expect(right.headers['retry-after']).toBeDefined();
    // Another IP, and successes in general, are not charged.
    for (let i = 0; i < limit + 2; i += 1) expect((await from('10.77.0.2', { authorization: `Bearer ${SECRET}` })).statusCode).toBe(200);
  });

  it('refuses to start in production with a webhook secret shorter than 16 characters', async () => {
    const { loadConfig } = await import('../config/config.ts');
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(48), ...env });
        return [];
      } catch (error) {
        return [...(error as { problems: string[] }).problems];
      }
    };
    expect(problems({ MINIO_WEBHOOK_SECRET: 'x' }).join('\n')).toMatch(/MINIO_WEBHOOK_SECRET is too weak/);
    expect(problems({ MINIO_WEBHOOK_SECRET: '0123456789abcde' }).join('\n')).toMatch(/MINIO_WEBHOOK_SECRET is too weak/);
    expect(problems({ MINIO_WEBHOOK_SECRET: '0123456789abcdef' }).join('\n')).not.toMatch(/MINIO_WEBHOOK_SECRET/);
    expect(problems({}).join('\n')).not.toMatch(/MINIO_WEBHOOK_SECRET/);
  });
});

describe('webhook parsing', () => {
  it('accepts only the configured secret, and nothing when none is configured', () => {
    expect(hasWebhookSecret({ authorization: `Bearer ${SECRET}` }, SECRET)).toBe(true);
    expect(hasWebhookSecret({ authorization: SECRET }, SECRET)).toBe(true);
    expect(hasWebhookSecret({ 'x-webhook-secret': SECRET }, SECRET)).toBe(true);
    expect(hasWebhookSecret({ authorization: 'Bearer nope', 'x-webhook-secret': SECRET }, SECRET)).toBe(true);
    expect(hasWebhookSecret({ authorization: `Bearer ${SECRET.slice(0, -1)}` }, SECRET)).toBe(false);
    expect(hasWebhookSecret({}, SECRET)).toBe(false);
    expect(hasWebhookSecret({ authorization: 'Bearer ' }, null)).toBe(false);
    expect(hasWebhookSecret({ authorization: 'Bearer ' }, '')).toBe(false);
  });

  it('decodes S3 keys and recognises only media keys', () => {
    const userId = '0b6f1f9e-3c1a-4d59-9a51-3f0f3d0b8a11';
    const { created } = parseBucketNotification({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: `videos/${userId}/my+run-1/cx_front.jpg` } } }] });
    expect(created).toEqual([{ key: `videos/${userId}/my run-1/cx_front.jpg`, bucket: null, size: null }]);
    expect(parseMediaKey(`videos/${userId}/run-1/cx_front.jpg`)).toEqual({ userId, sessionId: 'run-1', model: 'cx', view: 'front', ext: 'jpg' });
    expect(parseMediaKey(`videos/${userId}/run-1/cx_side.jpg`)).toBeNull();
    expect(parseMediaKey('videos/not-a-uuid/run-1/cx_front.jpg')).toBeNull();
    expect(parseBucketNotification({ Service: 'Amazon S3', Event: 's3:TestEvent' })).toEqual({ created: [], skipped: [] });
    expect(parseBucketNotification({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { object: { key: '%E0%A4%A' } } }] }).skipped).toHaveLength(1);
  });
});
