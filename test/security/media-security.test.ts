import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore } from '../../src/infra/object-store/open-object-store.ts';
import type { UrlSigner } from '../../src/infra/object-store/url-signer.ts';
import { FakePoseEstimator } from '../../src/pose/pose-estimator.ts';
import { reportText } from '../../src/report/report-text.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { multipart, pathOf, type MultipartPart } from '../helpers/multipart.ts';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

/**
 * SPEC section 2 (media sessions), the security promises that the feature tests beside the code leave open:
 * see docs/security-review.md for the whole map.
 */

const MAX_FILE_BYTES = 256 * 1024;
const SIGNED_URL_TTL = 90;
let t: TestApp;
let user: TestUser;
let jpg: Buffer;
/** The same signer the app serves /files with: its key is derived from the server secret. */
let signer: UrlSigner;
let port: number;

beforeAll(async () => {
  t = await createTestApp(
    { uploads: { maxFileBytes: MAX_FILE_BYTES, signedUrlTtlSeconds: SIGNED_URL_TTL } },
    { estimator: new FakePoseEstimator() },
  );
  signer = openObjectStore(t.config, TEST_JWT_SECRET).signer!;
  user = await newUser(t.app);
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  port = Number(new URL(await t.app.listen({ host: '127.0.0.1', port: 0 })).port);
});
afterAll(async () => {
  await t.close();
});

let sessions = 0;
const nextSession = () => `sec_${Date.now().toString(36)}_${++sessions}`;

function upload(parts: MultipartPart[], who: TestUser = user) {
  const { payload, headers } = multipart(parts);
  return t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(who.token) } });
}

/**
 * A request over a real socket, for what `inject` hides: a path with raw or encoded dot segments (inject normalises
 * the URL first), a body that arrives in chunks or without a Content-Length, and a keep-alive connection reused.
 */
function rawRequest(options: {
  method?: string; path: string; headers?: Record<string, string>; body?: Iterable<Buffer>; agent?: http.Agent;
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port, agent: options.agent ?? false, method: options.method ?? 'GET', path: options.path, headers: options.headers,
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString('latin1') }));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error(`no answer to ${options.method ?? 'GET'} ${options.path}`)));
    for (const chunk of options.body ?? []) request.write(chunk);
    request.end();
  });
}

/** The objects of a session, to prove a refused request kept nothing. */
async function storedKeys(sessionId: string, who: TestUser = user): Promise<string[]> {
  return (await t.store.list(`videos/${who.id}/${sessionId}/`)).map((o) => o.key);
}

describe('upload limits', () => {
  it('refuses more than four files in one request, keeping no file and no session', async () => {
    const id = nextSession();
    const fields = ['front', 'left', 'right', 'back', 'file'];
    const response = await upload([
      { name: 'session_id', value: id }, ...fields.map((name) => ({ name, filename: `${name}.jpg`, content: jpg })),
    ]);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'payload_too_large' });
    expect(await storedKeys(id)).toEqual([]);
    // The session id is free again: no analysis row was left behind.
    expect((await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'f.jpg', content: jpg }])).statusCode).toBe(201);
  });

  it('answers an over-limit or refused file sent over a real connection, and still reads the parts after it', async () => {
    // inject hands the parser the whole body at once; a socket delivers it in chunks, so a refused file that is not
    // read to its end blocks the parser and the request never gets an answer.
    const oversize = Buffer.concat([jpg, Buffer.alloc(MAX_FILE_BYTES * 2, 1)]);
    const disguised = Buffer.alloc(MAX_FILE_BYTES / 2, 'not a picture ');
    const id = nextSession();
    const { payload, headers } = multipart([
      { name: 'session_id', value: id },
      { name: 'front', filename: 'big.jpg', content: oversize },
      { name: 'left', filename: 'notes.jpg', content: disguised },
      { name: 'back', filename: 'ok.jpg', content: jpg },
    ]);
    const response = await rawRequest({ method: 'POST', path: '/api/video/upload', headers: { ...headers, ...bearer(user.token) }, body: [payload] });
    expect(response.status).toBe(207);
    const body = JSON.parse(response.body);
    expect(body.views_uploaded).toEqual(['back']);
    expect(body.errors.map((e: { field: string; error: string }) => `${e.field}: ${e.error}`)).toEqual([
      expect.stringMatching(/^front: File too large/), expect.stringMatching(/^left: Unsupported file type/),
    ]);
    expect(await storedKeys(id)).toEqual([`videos/${user.id}/${id}/cx_back.jpg`]);
  });

  it('holds a direct-upload PUT to the configured per-file limit, declared or streamed, and keeps nothing of it', async () => {
    const id = nextSession();
    const presign = await t.app.inject({
      method: 'POST', url: '/api/video/upload/presign', headers: bearer(user.token),
      payload: { session_id: id, views: { front: { filename: 'a.jpg' }, back: { filename: 'b.jpg' } } },
    });
    expect(presign.statusCode).toBe(201);
    const { front, back } = presign.json().uploads;
    const tooBig = Buffer.alloc(MAX_FILE_BYTES + 1, 1);
    const declared = await t.app.inject({ method: 'PUT', url: pathOf(front.url), headers: front.headers, payload: tooBig });
    expect(declared.statusCode).toBe(413);
    // No Content-Length: the limit is enforced while the body streams in. The rest of that body is still on the
    // wire, so the connection must not be offered for another request (a keep-alive client would wait forever).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const chunks = Array.from({ length: 8 }, () => Buffer.alloc(MAX_FILE_BYTES / 4, 2));
      const streamed = await rawRequest({
        method: 'PUT', path: pathOf(back.url), headers: { ...back.headers, 'transfer-encoding': 'chunked' }, body: chunks, agent,
      });
      expect(streamed.status).toBe(413);
      expect((await rawRequest({ path: '/api/health', agent })).status).toBe(200);
    } finally {
      agent.destroy();
    }
    expect(await t.store.head(front.key)).toBeNull();
    expect(await t.store.head(back.key)).toBeNull();
  });
});

describe('signed file URLs', () => {
  async function storedFile(): Promise<{ url: string; key: string }> {
    const id = nextSession();
    const response = await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'f.jpg', content: jpg }]);
    expect(response.statusCode).toBe(201);
    return { url: response.json().uploaded_files.front.file_url, key: `videos/${user.id}/${id}/cx_front.jpg` };
  }

  it('hands out URLs that expire after SIGNED_URL_TTL_SECONDS', async () => {
    const { url } = await storedFile();
    const expires = Number(new URL(url).searchParams.get('expires'));
    const now = Date.now() / 1000;
    expect(expires).toBeGreaterThan(now + SIGNED_URL_TTL - 5);
    expect(expires).toBeLessThanOrEqual(Math.ceil(now) + SIGNED_URL_TTL);
  });

  it("binds the signature to the object: the same query opens no other user's file", async () => {
    const { url } = await storedFile();
    const other = await newUser(t.app);
    const otherId = nextSession();
    await upload([{ name: 'session_id', value: otherId }, { name: 'front', filename: 'f.jpg', content: jpg }], other);
    const parsed = new URL(url);
    const moved = `${signer.pathOf(`videos/${other.id}/${otherId}/cx_front.jpg`)}${parsed.search}`;
    const response = await t.app.inject({ url: moved });
    expect(response.statusCode).toBe(403);
    expect(response.rawPayload.includes(jpg.subarray(0, 64))).toBe(false);
    const flipped = new URL(url);
    const signature = flipped.searchParams.get('signature')!;
    flipped.searchParams.set('signature', `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`);
    expect((await t.app.inject({ url: pathOf(flipped.toString()) })).statusCode).toBe(403);
  });

  it('refuses path traversal even under a valid signature, and serves nothing from outside the store', async () => {
    await t.store.putBuffer(`videos/${user.id}/inside/cx_front.jpg`, jpg);
    for (const key of [
      '../../../../etc/passwd', `videos/${user.id}/../../../jwt-secret`, `videos/${user.id}/../${user.id}/inside/cx_front.jpg`,
      '/etc/passwd', 'videos/..\\..\\x',
    ]) {
      // Signed with the real key, as if the attacker had it: the store's key rules are the second wall.
      const query = new URL(signer.signedUrl('GET', key, { expiresInSeconds: 60 })).search;
      const encoded = key.split('/').map((segment) => (segment === '..' ? '%2e%2e' : encodeURIComponent(segment))).join('/');
      for (const path of [`/files/${key}${query}`, `/files/${encoded}${query}`]) {
        const response = await rawRequest({ path });
        expect(response.status, path).toBe(400);
        expect(JSON.parse(response.body), path).toMatchObject({ code: 'invalid_request', error: expect.stringMatching(/Invalid object key/) });
      }
    }
  });
});

describe('the bucket webhook without a configured secret', () => {
  it.each([
    ['no header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['"null"', { authorization: 'Bearer null', 'x-webhook-secret': 'null' }],
    ['"undefined"', { 'x-webhook-secret': 'undefined' }],
  ])('refuses %s with 401', async (_label, headers: Record<string, string>) => {
    const response = await t.app.inject({
      method: 'POST', url: '/api/minio/webhook', headers, payload: { Records: [] },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthenticated' });
  });
});

/** The page content streams of a pdfkit file, inflated: the deflated streams that are plain ASCII (not pictures). */
function contentStreams(pdf: Buffer): string {
  const streams: string[] = [];
  const text = pdf.toString('latin1');
  // Each stream is read by its declared /Length: binary streams (the JPEG pictures) may hold any bytes, so scanning
  // for the next "endstream" could start or end in the middle of one.
  for (const match of text.matchAll(/\/Length (\d+)[^>]*>>\s*stream\r?\n/g)) {
    const start = match.index! + match[0].length;
    let inflated: string;
    try {
      inflated = inflateSync(pdf.subarray(start, start + Number(match[1]))).toString('latin1');
    } catch {
      continue; // not deflated: holds no page content
    }
    if (/^[\t\n\r\x20-\x7e]*$/.test(inflated)) streams.push(inflated);
  }
  return streams.join('\n');
}

/** The text pdfkit drew: the hex glyph strings of each TJ array, joined (one byte per WinAnsi glyph). */
function drawnText(streams: string): string {
  const runs: string[] = [];
  for (const [, array] of streams.matchAll(/\[((?:<[0-9a-fA-F]*>\s*-?[\d.]*\s*)+)\]\s*TJ/g)) {
    runs.push([...array!.matchAll(/<([0-9a-fA-F]*)>/g)].map(([, hex]) => Buffer.from(hex!, 'hex').toString('latin1')).join(''));
  }
  return runs.join('\n');
}

describe('user text in the PDF report', () => {
  it('draws a hostile name literally, as text, in a valid PDF', async () => {
    const name = '<b>Zoë</b> (a) \\) Tj ET BT /F1 99 Tf (pwned) Tj \\\\ %%EOF é 中 \u202Egnp.exe ' + 'x'.repeat(100);
    const author = await newUser(t.app, { name });
    const id = nextSession();
    const created = await upload([{ name: 'session_id', value: id }, { name: 'front', filename: 'f.jpg', content: jpg }], author);
    expect(created.statusCode).toBe(201);
    const done = await waitForAnalysis(t.app, author.token, created.json().analysis_id, ['completed', 'failed'], 60_000);
    expect(done.status).toBe('completed');
    const pdf = (await t.app.inject({ url: pathOf(done.report_url as string) })).rawPayload;

    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.subarray(-7).toString()).toMatch(/%%EOF\s*$/);
    // Written raw anywhere (say, into the document info), the name's "%%EOF" would be a second end marker.
    expect(pdf.toString('latin1').match(/%%EOF/g)).toHaveLength(1);
    // Drawn as the characters Helvetica can show (the bidi override dropped, 中 as ?), every metacharacter kept...
    const drawable = reportText(name, 200);
    expect(drawable).toContain('<b>Zoë</b> (a) \\) Tj ET BT /F1 99 Tf (pwned) Tj \\\\ %%EOF é ? gnp.exe');
    const streams = contentStreams(pdf);
    expect(drawnText(streams)).toContain(drawable.slice(0, 60));
    // ...as text: the name's PDF operators are glyphs in a hex string, never operators of the page.
    expect(streams).not.toContain('(pwned) Tj');
    expect(streams.match(/\bBT\b/g)?.length).toBe(streams.match(/\bET\b/g)?.length);
  });
});
