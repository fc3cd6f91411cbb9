import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { createAnalysesRepository } from '../analysis/analyses.repository.ts';
import { multipart, pathOf, type MultipartPart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';

let t: TestApp;
let user: TestUser;
let jpg: Buffer;
let mp4: Buffer;
const MAX_FILE_BYTES = 8 * 1024 * 1024;

beforeAll(async () => {
  t = await createTestApp({ uploads: { maxFileBytes: MAX_FILE_BYTES } });
  user = await newUser(t.app);
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  mp4 = await readFile('test/fixtures/sports2d_demo.mp4');
});
afterAll(async () => {
  await t.close();
});

function upload(parts: MultipartPart[], who: TestUser = user) {
  const { payload, headers } = multipart(parts);
  return t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(who.token) } });
}

const session = (() => {
  let n = 0;
  return () => `s_${Date.now().toString(36)}_${++n}`;
})();

async function storedKeys(u: TestUser, sessionId: string): Promise<string[]> {
  return (await t.store.list(`videos/${u.id}/${sessionId}/`)).map((o) => o.key);
}

/** Files of uploads still in flight, or left by one that failed. */
async function pendingKeys(): Promise<string[]> {
  return (await t.store.list('uploads-pending/')).map((o) => o.key);
}

function deleteMedia(payload: Record<string, string>, who: TestUser = user) {
  return t.app.inject({ method: 'POST', url: '/api/video/delete', payload, headers: bearer(who.token) });
}

/** Polls a condition (never a fixed sleep); fails with `what` after a deadline. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('POST /api/video/upload', () => {
  it('stores a view under the documented key and answers 201 with a signed URL that works without a token', async () => {
    const id = session();
    const response = await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'me.jpg', content: jpg }]);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      message: 'All files uploaded successfully. 1 files uploaded. Analysis will begin automatically.',
      session_id: id, model: 'cx', views_uploaded: ['front'],
      uploaded_files: { front: { filename: 'cx_front.jpg', original_filename: 'me.jpg', model: 'cx', view: 'front', file_type: 'image' } },
    });
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`]);
    const file = await t.app.inject({ url: pathOf(body.uploaded_files.front.file_url) });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(jpg)).toBe(true);
    const analysis = await t.app.inject({ url: `/api/analysis/${body.analysis_id}`, headers: bearer(user.token) });
    expect(analysis.json()).toMatchObject({ status: 'pending', session_id: id, model_name: 'cx', profile: 'stance' });
  });

  it('takes several views at once, judged by content not by name, and queues one analysis', async () => {
    const id = session();
    const response = await upload([
      { name: 'session_id', value: id }, { name: 'model', value: 'gy' }, { name: 'profile', value: 'upright' },
      { name: 'front', filename: 'photo.mp4', content: jpg, contentType: 'video/mp4' },
      { name: 'left', filename: 'clip.bin', content: mp4 },
    ]);
    expect(response.statusCode).toBe(201);
    expect(response.json().views_uploaded.sort()).toEqual(['front', 'left']);
    expect((await storedKeys(user, id)).sort()).toEqual([`videos/${user.id}/${id}/gy_front.jpg`, `videos/${user.id}/${id}/gy_left.mp4`]);
    expect(await t.queue.stats()).toMatchObject({ 'analyse-session': expect.any(Number) });
  });

  it("keeps the subject's height with the analysis, and refuses one that is no height, storing nothing", async () => {
    const id = session();
    const response = await upload([
      { name: 'session_id', value: id }, { name: 'height_cm', value: ' 172.5 ' }, { name: 'front', filename: 'me.jpg', content: jpg },
    ]);
    expect(response.statusCode).toBe(201);
    const analyses = createAnalysesRepository(t.database.db);
    expect((await analyses.findById(response.json().analysis_id))?.subjectHeightCm).toBe(172.5);
    const plain = await upload([{ name: 'session_id', value: session() }, { name: 'front', filename: 'me.jpg', content: jpg }]);
    expect((await analyses.findById(plain.json().analysis_id))?.subjectHeightCm).toBeNull();

    for (const height of ['1.72', '300', 'tall', '170cm']) {
      const bad = session();
      const refused = await upload([
        { name: 'session_id', value: bad }, { name: 'height_cm', value: height }, { name: 'front', filename: 'me.jpg', content: jpg },
      ]);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error).toMatch(/Invalid height_cm: .*from 50 to 250/);
      expect(await storedKeys(user, bad)).toEqual([]);
      expect(await analyses.findBySession(user.id, bad)).toBeNull();
    }
  });

  it('keeps the person assessed with the analysis, normalised, and refuses a bad field, storing nothing', async () => {
    const analyses = createAnalysesRepository(t.database.db);
    const named = await upload([
      { name: 'front', filename: 'me.jpg', content: jpg }, { name: 'session_id', value: session() },
      { name: 'subject_name', value: ' Ａｄａ Lovelace ' }, { name: 'subject_birth_date', value: '1985-12-10' },
      { name: 'subject_notes', value: 'Desk worker.\nLow back pain. ' },
    ]);
    expect(named.statusCode).toBe(201);
    expect((await analyses.findById(named.json().analysis_id))?.subject)
      .toEqual({ name: 'Ada Lovelace', birthDate: '1985-12-10', age: null, notes: 'Desk worker.\nLow back pain.' });
    const aged = await upload([{ name: 'session_id', value: session() }, { name: 'subject_age', value: '42' }, { name: 'front', filename: 'me.jpg', content: jpg }]);
    expect((await analyses.findById(aged.json().analysis_id))?.subject).toEqual({ name: null, birthDate: null, age: 42, notes: null });

    for (const [field, value, message] of [
      ['subject_name', 'x'.repeat(101), /^Invalid subject_name: 101 characters/],
      ['subject_name', 'Ada\u0000', /^Invalid subject_name: it holds control characters/],
      ['subject_birth_date', '1985-02-30', /^Invalid subject_birth_date: 1985-02-30\. Give the date of birth as YYYY-MM-DD/],
      ['subject_birth_date', `${new Date().getUTCFullYear() + 1}-01-01`, /^Invalid subject_birth_date: .*not in the future/],
      ['subject_age', '121', /^Invalid subject_age: 121\. Give the age in whole years, from 1 to 120/],
      ['subject_notes', 'n'.repeat(1001), /^Invalid subject_notes: 1001 characters/],
    ] as const) {
      const bad = session();
      const refused = await upload([
        { name: 'session_id', value: bad }, { name: 'front', filename: 'me.jpg', content: jpg }, { name: field, value },
      ]);
      expect(refused.statusCode, `${field}=${value.slice(0, 20)}`).toBe(400);
      expect(refused.json().error).toMatch(message);
      expect(await storedKeys(user, bad)).toEqual([]);
      expect(await analyses.findBySession(user.id, bad)).toBeNull();
    }
    const both = await upload([
      { name: 'session_id', value: session() }, { name: 'subject_age', value: '30' }, { name: 'subject_birth_date', value: '1995-01-01' },
      { name: 'front', filename: 'me.jpg', content: jpg },
    ]);
    expect(both.json()).toMatchObject({ error: 'Give subject_birth_date or subject_age, not both' });
    expect(await pendingKeys()).toEqual([]);
  });

  it('keeps the chosen person with the analysis: a person number or a point, at a time or not', async () => {
    const analyses = createAnalysesRepository(t.database.db);
    for (const [person, choice] of [
      ['2', { kind: 'id', id: 2 }],
      [' 640.5, 360 ', { kind: 'point', x: 640.5, y: 360 }],
      ['640,360@2.5', { kind: 'point', x: 640, y: 360, t: 2.5 }],
      ['auto', null],
      ['', null],
    ] as const) {
      const response = await upload([
        { name: 'session_id', value: session() }, { name: 'person', value: person }, { name: 'front', filename: 'me.jpg', content: jpg },
      ]);
      expect(response.statusCode, person).toBe(201);
      expect((await analyses.findById(response.json().analysis_id))?.subjectChoice, person).toEqual(choice);
    }
  });

  it('refuses a person that is neither a number nor a point with 400, storing nothing', async () => {
    const analyses = createAnalysesRepository(t.database.db);
    for (const person of ['0', '-1', '2.5', 'two', '640,', '640,360@', '640,360@-1', '640;360', '1,2,3', '9'.repeat(400)]) {
      const bad = session();
      const refused = await upload([
        { name: 'session_id', value: bad }, { name: 'person', value: person }, { name: 'front', filename: 'me.jpg', content: jpg },
      ]);
      expect(refused.statusCode, person).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'invalid_request' });
      expect(refused.json().error).toMatch(/^Invalid person: .*a person number as `postura analyze --list-people` prints them.*X,Y or X,Y@T/);
      expect(await storedKeys(user, bad)).toEqual([]);
      expect(await analyses.findBySession(user.id, bad)).toBeNull();
    }
  });

  it('answers 409 for a session id already used, listing its files', async () => {
    const id = session();
    await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg }]);
    const again = await upload([{ name: 'session_id', value: id }, { name: 'back', filename: 'b.jpg', content: jpg }]);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'session_id already exists', existing_files: ['cx_front.jpg'] });
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`]);
  });

  it.each([
    ['a bad session id', { session_id: '../etc' }, /Invalid session_id/],
    ['a session id over 64 characters', { session_id: 'x'.repeat(65) }, /Invalid session_id/],
    ['no session id', {}, /Missing session_id/],
    ['an unknown model', { session_id: 'ok_id', model: 'zz' }, /^Invalid model: zz\. Available models: \['cx', 'gy'\]$/],
  ])('answers 400 for %s and keeps nothing', async (label, fields: Record<string, string>, message) => {
    const response = await upload([
      ...Object.entries(fields).map(([name, value]) => ({ name, value })),
      { name: 'front', filename: 'a.jpg', content: jpg },
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(message);
    if (label === 'an unknown model') expect(response.json().available_models).toEqual(['cx', 'gy']);
    expect(await t.store.list(`videos/${user.id}/`)).not.toContainEqual(expect.objectContaining({ key: expect.stringContaining('ok_id') }));
  });

  it.each([
    ['text disguised as a jpg', Buffer.from('hello, this is not a picture at all'), /Unsupported file type/],
    ['a truncated jpeg', () => jpg.subarray(0, Math.floor(jpg.length / 2)), /corrupt or unreadable/],
    ['mp4 magic followed by garbage', () => Buffer.concat([mp4.subarray(0, 64), Buffer.alloc(50_000, 7)]), /corrupt or unreadable/],
    ['a file over the size limit', () => Buffer.concat([jpg, Buffer.alloc(MAX_FILE_BYTES)]), /File too large/],
  ])('refuses %s with 400, leaving no row, no object and the session id free', async (_label, content, message) => {
    const id = session();
    const bytes = typeof content === 'function' ? content() : content;
    const response = await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'x.jpg', content: bytes }]);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'No files were uploaded successfully' });
    expect(response.json().details.join(' ')).toMatch(message);
    expect(await storedKeys(user, id)).toEqual([]);
    const reuse = await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'ok.jpg', content: jpg }]);
    expect(reuse.statusCode).toBe(201);
  });

  it('answers 207 when some views fail, and stores the others', async () => {
    const id = session();
    const response = await upload([
      { name: 'session_id', value: id },
      { name: 'front', filename: 'good.jpg', content: jpg },
      { name: 'side', filename: 'bad-field.jpg', content: jpg },
      { name: 'back', filename: 'notes.txt', content: Buffer.from('text') },
    ]);
    expect(response.statusCode).toBe(207);
    const body = response.json();
    expect(body.message).toBe('Partial upload success. 1 files uploaded.');
    expect(body.views_uploaded).toEqual(['front']);
    expect(body.errors.map((e: { field: string }) => e.field)).toEqual(['side', 'back']);
    expect(body.errors[0].error).toMatch(/Unknown view field "side"/);
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`]);
  });

  it('keeps nothing, a file already staged included, when the parser refuses a later part', async () => {
    const id = session();
    const response = await upload([
      { name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg },
      { name: 'constructor', filename: 'b.jpg', content: jpg },
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/prototype property/);
    expect(await storedKeys(user, id)).toEqual([]);
    expect(await pendingKeys()).toEqual([]);
    expect(await createAnalysesRepository(t.database.db).findBySession(user.id, id)).toBeNull();
  });

  it('needs a token, and multipart', async () => {
    const { payload, headers } = multipart([{ name: 'session_id', value: session() }]);
    expect((await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers })).statusCode).toBe(401);
    const json = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload: { session_id: 'x' }, headers: bearer(user.token) });
    expect(json.statusCode).toBe(415);
  });
});

describe('deleting media', () => {
  it('deletes a whole session: row, media and results; the id can be used again', async () => {
    const id = session();
    const first = (await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg }])).json();
    const other = await newUser(t.app);
    const foreign = await t.app.inject({ method: 'POST', url: '/api/video/delete', payload: { session_id: id }, headers: bearer(other.token) });
    expect(foreign.statusCode).toBe(404);
    const response = await t.app.inject({ method: 'POST', url: '/api/video/delete/multiview', payload: { session_id: id }, headers: bearer(user.token) });
    expect(response.statusCode).toBe(200);
    expect(response.json().deleted_files).toEqual(['cx_front.jpg']);
    expect(await storedKeys(user, id)).toEqual([]);
    expect((await t.app.inject({ url: `/api/analysis/${first.analysis_id}`, headers: bearer(user.token) })).statusCode).toBe(404);
    expect((await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg }])).statusCode).toBe(201);
  });

  it('deletes one file of a session by name', async () => {
    const id = session();
    await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg }, { name: 'back', filename: 'b.jpg', content: jpg }]);
    const response = await t.app.inject({
      method: 'POST', url: '/api/video/delete', payload: { session_id: id, filename: 'cx_back.jpg' }, headers: bearer(user.token),
    });
    expect(response.statusCode).toBe(200);
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`]);
    const missing = await t.app.inject({
      method: 'POST', url: '/api/video/delete', payload: { session_id: id, filename: 'nope.jpg' }, headers: bearer(user.token),
    });
    expect(missing.statusCode).toBe(404);
  });
});

// Issue 12: the documented JavaScript examples and the web client append the files first and the fields after them.
describe('POST /api/video/upload: fields after the files', () => {
  it('takes session_id, model, profile, height_cm and person sent after the files', async () => {
    const id = session();
    const response = await upload([
      { name: 'front', filename: 'me.jpg', content: jpg }, { name: 'left', filename: 'walk.mp4', content: mp4 },
      { name: 'session_id', value: id }, { name: 'model', value: 'gy' }, { name: 'profile', value: 'upright' },
      { name: 'height_cm', value: '180' }, { name: 'person', value: '2' },
    ]);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      session_id: id, model: 'gy',
      uploaded_files: { front: { filename: 'gy_front.jpg', model: 'gy' }, left: { filename: 'gy_left.mp4', model: 'gy' } },
    });
    expect((await storedKeys(user, id)).sort()).toEqual([`videos/${user.id}/${id}/gy_front.jpg`, `videos/${user.id}/${id}/gy_left.mp4`]);
    expect((await t.store.getBuffer(`videos/${user.id}/${id}/gy_front.jpg`)).equals(jpg)).toBe(true);
    const analysis = await createAnalysesRepository(t.database.db).findById(response.json().analysis_id);
    expect(analysis).toMatchObject({ modelName: 'gy', profile: 'upright', subjectHeightCm: 180, subjectChoice: { kind: 'id', id: 2 } });
    expect(await pendingKeys()).toEqual([]);
  });

  it('takes fields between the files too', async () => {
    const id = session();
    const response = await upload([
      { name: 'front', filename: 'me.jpg', content: jpg }, { name: 'session_id', value: id },
      { name: 'back', filename: 'b.jpg', content: jpg }, { name: 'model', value: 'gy' },
    ]);
    expect(response.statusCode, response.body).toBe(201);
    expect((await storedKeys(user, id)).sort()).toEqual([`videos/${user.id}/${id}/gy_back.jpg`, `videos/${user.id}/${id}/gy_front.jpg`]);
  });

  it.each([
    ['no session id', {}, /^Missing session_id$/],
    ['a bad session id', { session_id: 'a b' }, /Invalid session_id/],
    ['an unknown model', { session_id: 'late_model', model: 'zz' }, /^Invalid model: zz\. Available models: \['cx', 'gy'\]$/],
  ])('answers 400 for %s after the files and keeps no object and no row', async (_label, fields: Record<string, string>, message) => {
    const id = fields.session_id ? `${fields.session_id.replace(' ', '_')}_${session()}` : null;
    const response = await upload([
      { name: 'front', filename: 'a.jpg', content: jpg }, { name: 'file', filename: 'b.jpg', content: jpg },
      ...Object.entries(fields).map(([name, value]) => ({ name, value: name === 'session_id' && value !== 'a b' ? id! : value })),
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(message);
    expect(await pendingKeys()).toEqual([]);
    if (id) {
      expect(await storedKeys(user, id)).toEqual([]);
      expect(await createAnalysesRepository(t.database.db).findBySession(user.id, id)).toBeNull();
    }
  });

  it('answers 409 for a taken session id sent after the files, keeping nothing of them and the first upload whole', async () => {
    const id = session();
    expect((await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg }])).statusCode).toBe(201);
    const again = await upload([
      { name: 'front', filename: 'other.mp4', content: mp4 }, { name: 'back', filename: 'b.jpg', content: jpg }, { name: 'session_id', value: id },
    ]);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'session_id already exists', existing_files: ['cx_front.jpg'] });
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`]);
    expect((await t.store.getBuffer(`videos/${user.id}/${id}/cx_front.jpg`)).equals(jpg)).toBe(true);
    expect(await pendingKeys()).toEqual([]);
  });

  it('leaves nothing when the client drops the connection after a file, before its fields', async () => {
    const id = session();
    const baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { payload, headers } = multipart([
      { name: 'front', filename: 'a.jpg', content: jpg }, { name: 'left', filename: 'b.mp4', content: mp4 }, { name: 'session_id', value: id },
    ]);
    const request = http.request(`${baseUrl}/api/video/upload`, {
      method: 'POST', headers: { ...headers, ...bearer(user.token), 'content-length': String(payload.length) },
    });
    request.on('error', () => {});
    // The whole front file and the start of the left one: front is staged, left is streaming.
    request.write(payload.subarray(0, jpg.length + 40_000));
    await until(async () => (await pendingKeys()).length > 0, 'the front file to be staged');
    request.destroy();
    await until(async () => (await pendingKeys()).length === 0, 'the staged files to be discarded');
    expect(await storedKeys(user, id)).toEqual([]);
    expect(await createAnalysesRepository(t.database.db).findBySession(user.id, id)).toBeNull();
  });
});

describe('POST /api/video/upload: a lone file of unknown view', () => {
  it('is stored as {model}_{its file name, reduced}{the sniffed extension}, and found again by that name', async () => {
    const id = session();
    const response = await upload([
      { name: 'file', filename: 'C:\\Users\\me\\My Clip (1).MOV', content: jpg }, { name: 'session_id', value: id }, { name: 'model', value: 'gy' },
    ]);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().uploaded_files.auto).toMatchObject({
      // The multipart parser already drops the client's folders from the original name.
      filename: 'gy_My_Clip_1.jpg', original_filename: 'My Clip (1).MOV', view: 'auto', file_type: 'image',
    });
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/gy_My_Clip_1.jpg`]);
    const file = await t.app.inject({ url: pathOf(response.json().uploaded_files.auto.file_url) });
    expect(file.rawPayload.equals(jpg)).toBe(true);
    const deleted = await deleteMedia({ session_id: id, filename: 'gy_My_Clip_1.jpg' });
    expect(deleted.json()).toMatchObject({ deleted_files: ['gy_My_Clip_1.jpg'] });
    expect(await storedKeys(user, id)).toEqual([]);
  });

  it('falls back to the view name when nothing of the file name is left', async () => {
    const id = session();
    const response = await upload([{ name: 'session_id', value: id }, { name: 'file', filename: '😀.jpg', content: jpg }]);
    expect(response.json().uploaded_files.auto.filename).toBe('cx_auto.jpg');
  });

  it.each([
    ['before', (file: MultipartPart, front: MultipartPart) => [file, front]],
    ['after', (file: MultipartPart, front: MultipartPart) => [front, file]],
  ])('is refused as a per-file error when named views come %s it, and the views are kept', async (_order, arrange) => {
    const id = session();
    const response = await upload([
      ...arrange({ name: 'file', filename: 'me.jpg', content: jpg }, { name: 'front', filename: 'front.jpg', content: jpg }),
      { name: 'session_id', value: id },
    ]);
    expect(response.statusCode, response.body).toBe(207);
    const body = response.json();
    expect(body.views_uploaded).toEqual(['front']);
    expect(body.errors).toEqual([{ field: 'file', filename: 'me.jpg', error: expect.stringMatching(/send "file" alone, or name its view/) }]);
    expect(await storedKeys(user, id)).toEqual([`videos/${user.id}/${id}/cx_front.jpg`]);
    expect(await pendingKeys()).toEqual([]);
  });
});

describe('POST /api/video/delete by file name alone, as documented', () => {
  it('deletes the file of that stored name, in whichever session holds it', async () => {
    const owner = await newUser(t.app);
    const id = session();
    await upload([{ name: 'front', filename: 'a.jpg', content: jpg }, { name: 'back', filename: 'b.jpg', content: jpg },
      { name: 'session_id', value: id }, { name: 'model', value: 'gy' }], owner);
    await upload([{ name: 'session_id', value: session() }, { name: 'back', filename: 'b.jpg', content: jpg }], owner);
    const response = await deleteMedia({ filename: 'gy_back.jpg' }, owner);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ message: 'File deleted successfully', session_id: id, deleted_files: ['gy_back.jpg'] });
    expect(await storedKeys(owner, id)).toEqual([`videos/${owner.id}/${id}/gy_front.jpg`]);
    // The last file of a session takes the session with it, as with a session_id.
    expect((await deleteMedia({ filename: 'gy_front.jpg' }, owner)).statusCode).toBe(200);
    expect(await createAnalysesRepository(t.database.db).findBySession(owner.id, id)).toBeNull();
  });

  it('answers 409 when several sessions have a file of that name, deleting nothing; with session_id it works', async () => {
    const owner = await newUser(t.app);
    const [first, second] = [session(), session()];
    for (const id of [first, second]) await upload([{ name: 'front', filename: 'a.jpg', content: jpg }, { name: 'session_id', value: id }], owner);
    const response = await deleteMedia({ filename: 'cx_front.jpg' }, owner);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: 'conflict', error: expect.stringMatching(/add session_id/) });
    expect(response.json().session_ids.sort()).toEqual([first, second].sort());
    expect(await storedKeys(owner, first)).toHaveLength(1);
    expect(await storedKeys(owner, second)).toHaveLength(1);
    expect((await deleteMedia({ session_id: second, filename: 'cx_front.jpg' }, owner)).statusCode).toBe(200);
    expect(await storedKeys(owner, first)).toHaveLength(1);
  });

  it("answers 404 for a name nobody has, or another user's file, and 400 without session_id and filename", async () => {
    const owner = await newUser(t.app);
    await upload([{ name: 'session_id', value: session() }, { name: 'left', filename: 'a.jpg', content: jpg }, { name: 'model', value: 'gy' }], owner);
    expect((await deleteMedia({ filename: 'gy_left.jpg' }, await newUser(t.app))).statusCode).toBe(404);
    expect((await deleteMedia({ filename: 'nope.jpg' }, owner)).statusCode).toBe(404);
    for (const payload of [{}, { filename: '' }] as Array<Record<string, string>>) {
      const response = await deleteMedia(payload, owner);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatch(/Send session_id to delete a whole session, filename to delete one file, or both/);
    }
    expect((await t.store.list(`videos/${owner.id}/`))).toHaveLength(1);
  });
});

describe('POST /api/video/upload: uploads in flight', () => {
  /** Starts an upload through a real connection and sends the whole first file and part of the second, then waits. */
  async function holdUpload(id: string) {
    // An earlier test may have started listening already.
    const baseUrl = t.app.server.listening
      ? `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`
      : await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { payload, headers } = multipart([
      { name: 'session_id', value: id }, { name: 'front', filename: 'a.jpg', content: jpg }, { name: 'left', filename: 'b.mp4', content: mp4 },
    ]);
    const request = http.request(`${baseUrl}/api/video/upload`, {
      method: 'POST', headers: { ...headers, ...bearer(user.token), 'content-length': String(payload.length) },
    });
    request.on('error', () => {});
    const answered = new Promise<number>((resolve) => request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode!);
    }));
    const sent = jpg.length + 40_000 + 300;
    request.write(payload.subarray(0, sent));
    return { request, answered, finish: () => request.end(payload.subarray(sent)) };
  }

  it('answers a third upload of one user 429 while two are in flight, storing nothing of it, and takes it once they end', async () => {
    const first = await holdUpload(session());
    const second = await holdUpload(session());
    await until(async () => (await pendingKeys()).length >= 2, 'both uploads to be streaming');

    const thirdId = session();
    const third = await upload([{ name: 'session_id', value: thirdId }, { name: 'front', filename: 'c.jpg', content: jpg }]);
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBe('5');
    expect(third.json()).toEqual({
      error: expect.stringMatching(/Too many uploads in progress/), message: expect.any(String), code: 'rate_limited',
    });
    expect(await storedKeys(user, thirdId)).toEqual([]);
    // The bound is per user: someone else still uploads.
    const other = await newUser(t.app);
    const theirs = await upload([{ name: 'session_id', value: session() }, { name: 'front', filename: 'c.jpg', content: jpg }], other);
    expect(theirs.statusCode).toBe(201);

    // One ends whole, the other is dropped by its client: both free their place.
    first.finish();
    expect(await first.answered).toBe(201);
    second.request.destroy();
    let again = third;
    await until(async () => {
      again = await upload([{ name: 'session_id', value: thirdId }, { name: 'front', filename: 'c.jpg', content: jpg }]);
      return again.statusCode !== 429;
    }, 'the dropped upload to free its place');
    expect(again.statusCode).toBe(201);
    await until(async () => (await pendingKeys()).length === 0, 'the dropped upload to be discarded');
  });
});
