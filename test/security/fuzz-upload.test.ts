import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import {
  expectHealthy, expectNoServerError, fuzzParams, listFiles, nastyString, NO_CHANGE, stateChange, storedState, type StoredState,
} from '../helpers/fuzz.ts';
import { multipart, type MultipartPart } from '../helpers/multipart.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * POST /api/video/upload under hostile multipart: odd structure (no boundary, cut short, duplicate fields, files
 * with no name, huge fields, too many parts) and disguised or truncated media built from the real fixtures.
 * Properties: never a 5xx; errors in the studio shape; a refused upload leaves no row and no stored file; an
 * accepted one stores exactly the readable media it reports, under the documented keys, and nothing else.
 */

const MAX_FILE_BYTES = 200_000;
let t: TestApp;
let storageRoot: string;
let user: TestUser;
let baseUrl: string;

/** Named contents; `readable` ones are real pictures or video a decoder accepts. */
interface Media { name: string; bytes: Buffer; readable: boolean | 'maybe' }
let media: Media[] = [];

async function loadMedia(): Promise<Media[]> {
  const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  const mp4 = await readFile('test/fixtures/sports2d_demo.mp4');
  const png = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#468' } }).png().toBuffer();
  return [
    { name: 'jpg', bytes: jpg, readable: true },
    { name: 'png', bytes: png, readable: true },
    { name: 'truncated jpg', bytes: jpg.subarray(0, 20_000), readable: false },
    { name: 'jpg magic then garbage', bytes: Buffer.concat([jpg.subarray(0, 3), randomBytes(4_000)]), readable: false },
    { name: 'png magic then garbage', bytes: Buffer.concat([png.subarray(0, 8), randomBytes(500)]), readable: false },
    { name: 'text', bytes: Buffer.from('I am a text file wearing a .jpg name\n'), readable: false },
    { name: 'html', bytes: Buffer.from('<html><script>alert(document.cookie)</script></html>'), readable: false },
    { name: 'empty', bytes: Buffer.alloc(0), readable: false },
    // The head of a real video: whether ffprobe can read it depends on where the container keeps its index.
    { name: 'mp4 head', bytes: mp4.subarray(0, 64 * 1024), readable: 'maybe' },
    { name: 'mp4 magic then zeros', bytes: Buffer.concat([mp4.subarray(0, 12), Buffer.alloc(2_000)]), readable: false },
    { name: 'too large jpg', bytes: Buffer.concat([jpg, Buffer.alloc(MAX_FILE_BYTES)]), readable: false },
  ];
}

let sessionCounter = 0;
const nextSessionId = () => `fzu_${++sessionCounter}`;

/** Mostly plausible parts (so some uploads succeed and the storage side is exercised), some hostile. */
const SESSION = '<this run\'s session id>';
const fileParts = fc.record({
  name: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('front', 'left', 'right', 'back', 'file') },
    { weight: 1, arbitrary: fc.constantFrom('side', '', 'FRONT', 'front"; filename="evil.jpg', 'session_id') },
  ),
  filename: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('me.jpg', 'clip.mp4', '') },
    { weight: 1, arbitrary: fc.constantFrom('../../etc/passwd', '..\\..\\boot.ini', 'a\u0000b.jpg', '😀.jpg', 'x'.repeat(300),
      'name\r\nX-Injected: 1', '%2e%2e%2fa.jpg') },
  ),
  /** Index into `media`; the first two are readable pictures, so about half the files are. */
  media: fc.oneof(fc.constantFrom(0, 1), fc.nat()),
  contentType: fc.constantFrom('image/jpeg', 'video/mp4', 'text/html', undefined),
});
const fieldParts = fc.record({
  name: fc.constantFrom('session_id', 'model', 'profile', 'extra', 'front'),
  value: fc.oneof(fc.constantFrom(SESSION, 'cx', 'gy', 'zz', 'stance', 'upright', '../../x', 'x'.repeat(5_000)), nastyString),
});
type Mutation = 'none' | 'cut' | 'no final boundary' | 'no boundary' | 'other boundary' | 'LF only' | 'preamble' | 'many fields';
const uploads = fc.record({
  leadingSession: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  parts: fc.array(fc.oneof({ weight: 2, arbitrary: fileParts }, { weight: 1, arbitrary: fieldParts }), { minLength: 0, maxLength: 5 }),
  mutation: fc.oneof(
    { weight: 5, arbitrary: fc.constant<Mutation>('none') },
    { weight: 4, arbitrary: fc.constantFrom<Mutation>('cut', 'no final boundary', 'no boundary', 'other boundary', 'LF only', 'preamble', 'many fields') },
  ),
  cut: fc.nat(),
});

type FuzzUpload = typeof uploads extends fc.Arbitrary<infer U> ? U : never;

function buildRequest(input: FuzzUpload, sessionId: string): { payload: Buffer; headers: Record<string, string>; sent: Media[] } {
  const sent: Media[] = [];
  const parts: MultipartPart[] = input.leadingSession ? [{ name: 'session_id', value: sessionId }] : [];
  for (const part of input.parts) {
    if ('filename' in part) {
      const chosen = media[part.media % media.length]!;
      sent.push(chosen);
      parts.push({ name: part.name, filename: part.filename, content: chosen.bytes, ...(part.contentType ? { contentType: part.contentType } : {}) });
    } else {
      parts.push({ name: part.name, value: part.value === SESSION ? sessionId : part.value });
    }
  }
  if (input.mutation === 'many fields') for (let i = 0; i < 20; i++) parts.push({ name: `f${i}`, value: 'v' });
  let { payload, headers } = multipart(parts);
  const boundary = /boundary=(.+)$/.exec(headers['content-type']!)![1]!;
  switch (input.mutation) {
    case 'cut': payload = payload.subarray(0, input.cut % Math.max(1, payload.length)); break;
    case 'no final boundary': payload = payload.subarray(0, payload.length - boundary.length - 6); break;
    case 'no boundary': headers = { 'content-type': 'multipart/form-data' }; break;
    case 'other boundary': headers = { 'content-type': 'multipart/form-data; boundary=not-the-one' }; break;
    case 'LF only': payload = Buffer.from(payload.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'); break;
    case 'preamble': payload = Buffer.concat([Buffer.from('garbage before the first boundary\r\n'), payload]); break;
  }
  return { payload, headers, sent };
}

const snapshot = () => storedState(t.database, storageRoot);

async function expectUnchanged(before: StoredState): Promise<void> {
  expect(stateChange(before, await snapshot())).toEqual(NO_CHANGE);
}

function upload(payload: Buffer, headers: Record<string, string>, who: TestUser = user) {
  return t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(who.token) } });
}

beforeAll(async () => {
  storageRoot = await mkdtemp(path.join(os.tmpdir(), 'postura-fuzz-upload-'));
  t = await createTestApp({ uploads: { maxFileBytes: MAX_FILE_BYTES } }, { storageRoot });
  user = await newUser(t.app);
  media = await loadMedia();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
  await rm(storageRoot, { recursive: true, force: true });
});
afterEach(async () => {
  await expectHealthy(t.app);
  expect((await listFiles(storageRoot)).filter((f) => f.startsWith('tmp')), 'temp files of uploads in flight').toEqual([]);
});

describe('fuzz: multipart uploads', () => {
  it('odd structure and disguised media: no 5xx, refused uploads leave nothing, accepted ones store only readable media', async () => {
    await fc.assert(fc.asyncProperty(uploads, async (input) => {
      const sessionId = nextSessionId();
      const { payload, headers, sent } = buildRequest(input, sessionId);
      const before = await snapshot();
      const response = await upload(payload, headers);
      const what = `${input.mutation} [${input.parts.map((p) => ('filename' in p ? `${p.name}=${media[p.media % media.length]!.name}` : `${p.name}:${p.value.slice(0, 20)}`)).join(', ')}]`;
      expectNoServerError(response, 'studio', what);
      const after = await snapshot();
      if (response.statusCode >= 400) {
        expect(stateChange(before, after), `${what} → ${response.statusCode} left something behind`).toEqual(NO_CHANGE);
        return;
      }
      expect([201, 207], what).toContain(response.statusCode);
      const body = response.json() as { session_id: string; views_uploaded: string[]; uploaded_files: Record<string, { filename: string }> };
      const keys = body.views_uploaded.map((view) => `videos/${user.id}/${body.session_id}/${body.uploaded_files[view]!.filename}`);
      const change = stateChange(before, after);
      expect(change.rows, what).toMatchObject({ analyses: 1, media_files: keys.length, users: 0 });
      expect(change.removed, what).toEqual([]);
      expect(change.added.sort(), what).toEqual(keys.flatMap((key) => [`blobs/${key}`, `meta/${key}.json`]).sort());
      for (const key of keys) {
        const stored = await readFile(path.join(storageRoot, 'blobs', key));
        const origin = sent.find((m) => m.bytes.equals(stored));
        expect(origin?.readable, `${what}: stored ${key} must be readable media, not ${origin?.name ?? 'unknown bytes'}`).toBeTruthy();
      }
    }), fuzzParams(40));
  });

  it('a file name the database cannot hold (NUL) is refused and nothing of the upload stays (regression: 500 and leftovers)', async () => {
    const jpg = media.find((m) => m.name === 'jpg')!.bytes;
    for (const parts of [
      [{ name: 'front', filename: 'a\u0000b.jpg', content: jpg }],
      [{ name: 'front', filename: 'ok.jpg', content: jpg }, { name: 'left', filename: 'b\u0000.jpg', content: jpg }],
    ]) {
      const sessionId = nextSessionId();
      const before = await snapshot();
      const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, ...parts]);
      const response = await upload(payload, headers);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'invalid_request' });
      await expectUnchanged(before);
    }
  });

  it('a multipart body cut short or without a boundary is a 400, not a 500 (regression)', async () => {
    const jpg = media.find((m) => m.name === 'jpg')!.bytes;
    const { payload, headers } = multipart([{ name: 'session_id', value: nextSessionId() }, { name: 'front', filename: 'a.jpg', content: jpg }]);
    const before = await snapshot();
    for (const [body, head] of [
      [payload.subarray(0, payload.length - 40), headers],
      [payload.subarray(0, 5_000), headers],
      [payload, { 'content-type': 'multipart/form-data' }],
      [Buffer.from('garbage'), { 'content-type': 'multipart/form-data; boundary=zzz' }],
    ] as const) {
      const response = await upload(body, head);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ code: 'invalid_request' });
    }
    await expectUnchanged(before);
  });

  it('a session id already taken is 409 and the first upload stays whole', async () => {
    const jpg = media.find((m) => m.name === 'jpg')!.bytes;
    const sessionId = nextSessionId();
    const first = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'a.jpg', content: jpg }]);
    expect((await upload(first.payload, first.headers)).statusCode).toBe(201);
    const before = await snapshot();
    const again = multipart([{ name: 'session_id', value: sessionId }, { name: 'back', filename: 'b.jpg', content: jpg }]);
    const response = await upload(again.payload, again.headers);
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ error: 'session_id already exists', existing_files: ['cx_front.jpg'] });
    await expectUnchanged(before);
  });

  it('direct upload: a declared file name the database cannot hold is refused at presign, not stuck at finalize (regression)', async () => {
    const sessionId = nextSessionId();
    const before = await snapshot();
    const presign = await t.app.inject({
      method: 'POST', url: '/api/video/upload/presign', headers: bearer(user.token),
      payload: { session_id: sessionId, views: { front: { filename: 'a\u0000b.jpg' } } },
    });
    expect(presign.statusCode, presign.body).toBe(400);
    expect(presign.json()).toMatchObject({ code: 'invalid_request' });
    await expectUnchanged(before);
  });

  it('a client that drops the connection mid-file leaves no row and no stored object', async () => {
    const jpg = media.find((m) => m.name === 'jpg')!.bytes;
    const sessionId = nextSessionId();
    const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'a.jpg', content: jpg }]);
    const rowsFor = async () => (await t.database.db.selectFrom('analyses').select('id').where('session_id', '=', sessionId).execute()).length;
    const request = http.request(`${baseUrl}/api/video/upload`, {
      method: 'POST', headers: { ...headers, ...bearer(user.token), 'content-length': String(payload.length) },
    });
    request.on('error', () => {});
    request.write(payload.subarray(0, 60_000));
    // The server is streaming the file to the store (the session is reserved only once the body has ended): now the
    // client vanishes.
    await until(async () => (await listFiles(storageRoot)).some((f) => f.startsWith('tmp')), 'the upload to start');
    request.destroy();
    await until(async () => (await listFiles(storageRoot)).every((f) => !f.includes(`/${sessionId}/`) && !f.startsWith('tmp')
      && !f.includes('uploads-pending/')), 'the upload to be discarded');
    expect(await rowsFor()).toBe(0);
  });
});

/** Polls a condition (never a fixed sleep); fails with `what` after a deadline. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
