import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ObjectKeyError, ObjectNotFoundError, ObjectTooLargeError, type ObjectStore,
} from './object-store.ts';
import { fsHarness, memoryHarness, s3Harness, type StoreHarness } from './object-store-test-harness.ts';
import { S3ObjectStore } from './s3-object-store.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/** 16 distinct, never-mutated chunks cycled to make big bodies whose content is still checkable. */
const PATTERN = Array.from({ length: 16 }, () => randomBytes(CHUNK));

/** `bytes` of generated data; calls `onChunk` before each chunk so a test can abort or sample memory mid-stream. */
async function* generated(bytes: number, onChunk?: (sent: number) => void): AsyncGenerator<Buffer> {
  for (let sent = 0, i = 0; sent < bytes; i++) {
    onChunk?.(sent);
    const chunk = PATTERN[i % PATTERN.length]!.subarray(0, Math.min(CHUNK, bytes - sent));
    sent += chunk.length;
    yield chunk;
  }
}

function digestOfGenerated(bytes: number): string {
  const hash = createHash('sha256');
  for (let sent = 0, i = 0; sent < bytes; i++) {
    const chunk = PATTERN[i % PATTERN.length]!.subarray(0, Math.min(CHUNK, bytes - sent));
    hash.update(chunk);
    sent += chunk.length;
  }
  return hash.digest('hex');
}

async function digestOf(stream: Readable): Promise<{ sha: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha: hash.digest('hex'), size };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let run = 0;
const uniquePrefix = () => `videos/u${process.pid}${++run}/s-${randomBytes(3).toString('hex')}`;

/** Nothing visible under the key, and for local disk nothing in flight either. */
async function expectNothingLeft(h: StoreHarness, key: string): Promise<void> {
  expect(await h.store.head(key)).toBeNull();
  expect(await h.store.list(key)).toEqual([]);
  if (h.rootDir) expect(await fs.readdir(path.join(h.rootDir, 'tmp'))).toEqual([]);
}

interface ContractOptions {
  /** False for the in-memory fake, which by nature holds objects in memory. */
  streamsToBackend: boolean;
  /** s3rver checks SigV4 expiry but not the signature itself (AWS S3 and MinIO do): tamper tests need the real thing. */
  verifiesSignatures: boolean;
}

function contract(name: string, open: () => Promise<StoreHarness>, { streamsToBackend, verifiesSignatures }: ContractOptions) {
  describe(name, () => {
    let h: StoreHarness;
    let store: ObjectStore;
    beforeAll(async () => {
      h = await open();
      store = h.store;
    });
    afterAll(async () => h?.close());

    it('round-trips buffers and streams with their content type and size', async () => {
      const key = `${uniquePrefix()}/cx_front.mp4`;
      expect(await store.put(key, Readable.from([Buffer.from('hello '), Buffer.from('world')]), {
        contentType: 'video/mp4',
      })).toEqual({ size: 11 });
      expect((await store.getBuffer(key)).toString()).toBe('hello world');
      expect(await store.head(key)).toMatchObject({ size: 11, contentType: 'video/mp4' });
      expect((await digestOf(await store.get(key, { range: { start: 6, end: 10 } }))).size).toBe(5);

      const json = `${uniquePrefix()}/detailed_front.json`;
      await store.putBuffer(json, Buffer.from('{"ok":true}'), { contentType: 'application/json' });
      expect(JSON.parse((await store.getBuffer(json)).toString())).toEqual({ ok: true });
      await store.putBuffer(json, Buffer.from('{"ok":2}'), { contentType: 'application/json' });
      expect((await store.getBuffer(json)).toString()).toBe('{"ok":2}');
    });

    it('reports missing objects: get throws ObjectNotFoundError, head is null, delete is idempotent', async () => {
      const key = `${uniquePrefix()}/missing.bin`;
      await expect(store.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.getBuffer(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.head(key)).toBeNull();
      await store.delete(key);
      await store.putBuffer(key, Buffer.from('x'));
      await store.delete(key);
      await store.delete(key);
      expect(await store.head(key)).toBeNull();
    });

    it('streams a 64 MiB object of unknown length in and out intact', async () => {
      const key = `${uniquePrefix()}/big.bin`;
      const size = 64 * MiB;
      expect(await store.put(key, generated(size), { contentType: 'video/mp4' })).toEqual({ size });
      expect(await store.head(key)).toMatchObject({ size, contentType: 'video/mp4' });
      expect(await digestOf(await store.get(key))).toEqual({ sha: digestOfGenerated(size), size });
      await store.delete(key);
    }, 120_000);

    it.skipIf(!streamsToBackend)('keeps memory bounded while streaming 64 MiB in and out', async () => {
      const key = `${uniquePrefix()}/rss.bin`;
      const size = 64 * MiB;
      const before = process.memoryUsage().rss;
      let peak = before;
      const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
      const timer = setInterval(sample, 10);
      try {
        await store.put(key, generated(size, sample));
        const out = await store.get(key);
        for await (const _chunk of out) sample();
      } finally {
        clearInterval(timer);
      }
      const growthMiB = (peak - before) / MiB;
      console.info(`[${name}] RSS growth streaming 64 MiB in and out: ${growthMiB.toFixed(1)} MiB`);
      // A store that buffered the object would grow by at least its 64 MiB (the in-process test server adds its own
      // copy); streaming holds a part or two (8 MiB parts) plus the allocator's and the GC's slack, which varies
      // with load (48.3 MiB seen once on a loaded machine).
      expect(growthMiB).toBeLessThan(60);
      await store.delete(key);
    }, 120_000);

    it('refuses a body past maxBytes and leaves nothing behind', async () => {
      const key = `${uniquePrefix()}/too-big.bin`;
      await expect(store.put(key, generated(3 * MiB), { maxBytes: 1 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError);
      await expectNothingLeft(h, key);
      // Past a part boundary too (a started multipart upload on S3).
      await expect(store.put(key, generated(20 * MiB), { maxBytes: 12 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError);
      await expectNothingLeft(h, key);
      // A declared length over the limit is refused before anything is read.
      let read = 0;
      await expect(store.put(key, generated(2 * MiB, () => { read++; }), { maxBytes: MiB, contentLength: 2 * MiB }))
        .rejects.toBeInstanceOf(ObjectTooLargeError);
      expect(read).toBe(0);
      await expectNothingLeft(h, key);
      // A body longer than its declared length is refused too.
      await expect(store.put(key, generated(2 * MiB), { contentLength: MiB })).rejects.toThrow(/Content-Length/);
      await expectNothingLeft(h, key);
    }, 60_000);

    it('leaves nothing behind when an upload is aborted, and keeps the previous object', async () => {
      const key = `${uniquePrefix()}/aborted.bin`;
      for (const [size, contentLength] of [[12 * MiB, undefined], [4 * MiB, 4 * MiB]] as const) {
        const controller = new AbortController();
        const body = generated(size, (sent) => { if (sent >= size / 2) controller.abort(); });
        await expect(store.put(key, body, { signal: controller.signal, ...(contentLength ? { contentLength } : {}) }))
          .rejects.toThrow(/abort/i);
        await expectNothingLeft(h, key);
      }
      await store.putBuffer(key, Buffer.from('previous'));
      const controller = new AbortController();
      const stalled = (async function* () {
        yield Buffer.from('partial');
        await sleep(60_000);
      })();
      setTimeout(() => controller.abort(), 50);
      await expect(store.put(key, stalled, { signal: controller.signal })).rejects.toThrow(/abort/i);
      expect((await store.getBuffer(key)).toString()).toBe('previous');
    }, 60_000);

    it('refuses keys that could escape the store', async () => {
      const bad = ['../etc/passwd', 'videos/../../x', '/etc/passwd', 'a\\b', 'a\u0000b', 'a//b', '', 'a/', './a',
        'a/./b', 'C:/windows', 'a\nb', `${'x'.repeat(1025)}`];
      for (const key of bad) {
        await expect(store.put(key, Readable.from([Buffer.from('x')])), JSON.stringify(key)).rejects.toBeInstanceOf(ObjectKeyError);
        await expect(store.putBuffer(key, Buffer.from('x'))).rejects.toBeInstanceOf(ObjectKeyError);
        await expect(store.get(key)).rejects.toBeInstanceOf(ObjectKeyError);
        await expect(store.head(key)).rejects.toBeInstanceOf(ObjectKeyError);
        await expect(store.delete(key)).rejects.toBeInstanceOf(ObjectKeyError);
        await expect(store.signedGetUrl(key, { expiresInSeconds: 60 })).rejects.toBeInstanceOf(ObjectKeyError);
      }
      await expect(store.list('../')).rejects.toBeInstanceOf(ObjectKeyError);
      await expect(store.deletePrefix('')).rejects.toBeInstanceOf(ObjectKeyError);
      await expect(store.deletePrefix('videos/../')).rejects.toBeInstanceOf(ObjectKeyError);
      if (h.rootDir) {
        await expect(fs.access(path.join(h.rootDir, '..', 'x'))).rejects.toThrow();
        await expect(fs.access(path.join(h.rootDir, 'x'))).rejects.toThrow();
      }
    });

    it('lists by string prefix, sorted, and deletes by prefix', async () => {
      const base = uniquePrefix();
      const keys = [`${base}/s1/b.mp4`, `${base}/s1/a.mp4`, `${base}/s1/sub/c.json`, `${base}/s10/d.mp4`, `${base}x/e`];
      for (const [i, key] of keys.entries()) await store.putBuffer(key, Buffer.alloc(i + 1));
      expect(await store.list(`${base}/s1/`)).toEqual([
        { key: `${base}/s1/a.mp4`, size: 2 }, { key: `${base}/s1/b.mp4`, size: 1 }, { key: `${base}/s1/sub/c.json`, size: 3 },
      ]);
      expect((await store.list(`${base}/s1`)).map((o) => o.key)).toContain(`${base}/s10/d.mp4`);
      expect(await store.list(`${base}/nothing/`)).toEqual([]);
      expect(await store.deletePrefix(`${base}/s1/`)).toBe(3);
      expect((await store.list(base)).map((o) => o.key)).toEqual([`${base}/s10/d.mp4`, `${base}x/e`]);
      expect(await store.deletePrefix(`${base}/s1/`)).toBe(0);
      expect(await store.deletePrefix(base)).toBe(2);
      expect(await store.list(base)).toEqual([]);
    });

    it('moves an object with its content type, replacing the target and leaving nothing at the source', async () => {
      const base = uniquePrefix();
      const from = `uploads-pending/${base.replaceAll('/', '-')}/front.jpg`;
      const to = `${base}/cx_front.jpg`;
      await store.put(from, Readable.from([Buffer.from('new '), Buffer.from('bytes')]), { contentType: 'image/jpeg' });
      await store.putBuffer(to, Buffer.from('older object'), { contentType: 'video/mp4' });
      await store.move(from, to);
      expect((await store.getBuffer(to)).toString()).toBe('new bytes');
      expect(await store.head(to)).toMatchObject({ size: 9, contentType: 'image/jpeg' });
      await expectNothingLeft(h, from);
      expect(await store.list(`uploads-pending/${base.replaceAll('/', '-')}/`)).toEqual([]);
      if (h.rootDir) {
        const left = await fs.readdir(path.join(h.rootDir, 'blobs', 'uploads-pending')).catch(() => []);
        expect(left, 'emptied folders are pruned').not.toContain(base.replaceAll('/', '-'));
      }
      // Into folders that did not exist yet, and from a key that needs encoding (S3's CopySource is URL-encoded; no
      // `+` here: s3rver decodes the header with decodeURI, which leaves %2B alone where S3 and MinIO decode it).
      const odd = `${uniquePrefix()}/deep/er/mé clip 1 %2F.mp4`;
      await store.move(to, odd);
      expect(await store.head(to)).toBeNull();
      const back = `${base}/cx_left.mp4`;
      await store.move(odd, back);
      expect((await store.getBuffer(back)).toString()).toBe('new bytes');
      expect(await store.head(odd)).toBeNull();
      await store.delete(back);
    });

    it('refuses to move a missing object or to or from a key that could escape the store', async () => {
      const base = uniquePrefix();
      await expect(store.move(`${base}/missing.jpg`, `${base}/target.jpg`)).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.head(`${base}/target.jpg`)).toBeNull();
      await store.putBuffer(`${base}/a.jpg`, Buffer.from('a'));
      for (const bad of ['../etc/passwd', 'a//b', '/abs', 'a/', 'a\u0000b']) {
        await expect(store.move(`${base}/a.jpg`, bad), JSON.stringify(bad)).rejects.toBeInstanceOf(ObjectKeyError);
        await expect(store.move(bad, `${base}/b.jpg`), JSON.stringify(bad)).rejects.toBeInstanceOf(ObjectKeyError);
      }
      expect((await store.getBuffer(`${base}/a.jpg`)).toString()).toBe('a');
      await store.deletePrefix(`${base}/`);
    });

    it('hands out signed GET URLs that work without a token, carry the filename, then expire', async () => {
      const key = `${uniquePrefix()}/front.png`;
      await store.putBuffer(key, Buffer.from('png-bytes'), { contentType: 'image/png' });
      // Expiry is counted in whole seconds from a second-rounded signing time: 3 s leaves room for a slow machine.
      const url = await store.signedGetUrl(key, { expiresInSeconds: 3, filename: 'mé photo "1".png' });
      const first = await h.fetchUrl(url);
      expect(first.status).toBe(200);
      expect(first.body.toString()).toBe('png-bytes');
      expect(first.header('content-type')).toBe('image/png');
      expect(first.header('content-disposition')).toContain("filename*=UTF-8''m%C3%A9%20photo%20_1_.png");
      await sleep(4_100);
      expect((await h.fetchUrl(url)).status).toBe(403);
    });

    it.skipIf(!verifiesSignatures)('refuses tampered signed URLs', async () => {
      const key = `${uniquePrefix()}/left.png`;
      const other = `${uniquePrefix()}/right.png`;
      await store.putBuffer(key, Buffer.from('a'));
      await store.putBuffer(other, Buffer.from('b'));
      const url = new URL(await store.signedGetUrl(key, { expiresInSeconds: 60 }));
      const sigParam = url.searchParams.has('signature') ? 'signature' : 'X-Amz-Signature';
      const tampered = new URL(url);
      const sig = tampered.searchParams.get(sigParam)!;
      tampered.searchParams.set(sigParam, `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`);
      expect((await h.fetchUrl(tampered.toString())).status).toBe(403);
      const otherKey = new URL(url);
      otherKey.pathname = url.pathname.replace('left.png', 'right.png').replace(key.split('/')[2]!, other.split('/')[2]!);
      expect((await h.fetchUrl(otherKey.toString())).status).toBe(403);
      // A GET signature does not allow a PUT.
      expect((await h.fetchUrl(url.toString(), { method: 'PUT', body: Buffer.from('evil') })).status).toBe(403);
      expect((await store.getBuffer(key)).toString()).toBe('a');
    });

    it('hands out signed PUT URLs for direct uploads', async () => {
      const key = `${uniquePrefix()}/cx_back.mp4`;
      const url = await store.signedPutUrl(key, { expiresInSeconds: 60, contentType: 'video/mp4' });
      const body = randomBytes(300_000);
      const put = await h.fetchUrl(url, { method: 'PUT', body, headers: { 'content-type': 'video/mp4' } });
      expect(put.status).toBe(200);
      expect((await store.getBuffer(key)).equals(body)).toBe(true);
      expect(await store.head(key)).toMatchObject({ size: body.length, contentType: 'video/mp4' });
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

contract('MemoryObjectStore', memoryHarness, { streamsToBackend: false, verifiesSignatures: true });
contract('FsObjectStore', fsHarness, { streamsToBackend: true, verifiesSignatures: true });
contract('S3ObjectStore (s3rver)', s3Harness, { streamsToBackend: true, verifiesSignatures: false });

describe('S3ObjectStore specifics', () => {
  let h: StoreHarness;
  beforeAll(async () => { h = await s3Harness(); });
  afterAll(async () => h?.close());

  it('creates a missing bucket once and reports an unreachable server as unavailable', async () => {
    const s3 = h.store as S3ObjectStore;
    const endpoint = await s3.client.config.endpoint?.();
    const other = new S3ObjectStore({
      endpoint: `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`, region: 'us-east-1',
      bucket: 'created-on-demand', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true,
    });
    await expect(other.ping()).rejects.toMatchObject({ code: 'unavailable' });
    await other.createBucketIfMissing();
    await other.createBucketIfMissing();
    await expect(other.ping()).resolves.toBeUndefined();
    other.close();

    const down = new S3ObjectStore({
      endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'b', accessKeyId: 'k', secretAccessKey: 's',
      forcePathStyle: true,
    });
    await expect(down.head('a/b')).rejects.toMatchObject({ code: 'unavailable' });
    down.close();
  });

  it('aborts a failed multipart upload before put settles, so no parts are left to be billed', async () => {
    // s3rver does not implement AbortMultipartUpload, so the commands sent are what is checked.
    const s3 = h.store as S3ObjectStore;
    let sent: Array<{ command: string | undefined; uploadId: string | undefined }> = [];
    s3.client.middlewareStack.add((next, context) => async (args) => {
      sent.push({ command: context.commandName, uploadId: (args.input as { UploadId?: string }).UploadId });
      return next(args);
    }, { step: 'initialize', name: 'recordCommands' });
    try {
      const key = `${uniquePrefix()}/failed.bin`;
      const controller = new AbortController();
      const failures = [
        () => expect(s3.put(key, generated(20 * MiB), { maxBytes: 12 * MiB })).rejects.toBeInstanceOf(ObjectTooLargeError),
        () => expect(s3.put(key, generated(20 * MiB, (at) => { if (at >= 10 * MiB) controller.abort(); }), {
          signal: controller.signal,
        })).rejects.toThrow(/abort/i),
      ];
      for (const fail of failures) {
        sent = [];
        await fail();
        const uploadIds = new Set(sent.filter((c) => c.command === 'UploadPartCommand').map((c) => c.uploadId));
        expect(uploadIds.size).toBe(1);
        expect(sent.map((c) => c.command)).toContain('CreateMultipartUploadCommand');
        expect(sent.map((c) => c.command)).not.toContain('CompleteMultipartUploadCommand');
        expect(sent.at(-1)).toEqual({ command: 'AbortMultipartUploadCommand', uploadId: [...uploadIds][0] });
        expect(await s3.head(key)).toBeNull();
      }
    } finally {
      s3.client.middlewareStack.remove('recordCommands');
    }
  }, 60_000);
});
