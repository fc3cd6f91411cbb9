import { randomUUID } from 'node:crypto';
import { createWriteStream, constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertValidKey, assertValidPrefix, DEFAULT_CONTENT_TYPE, limitedChunks, ObjectKeyError, ObjectNotFoundError,
  ObjectStoreUnavailableError, type GetOptions, type ObjectInfo, type ObjectStore, type PutOptions,
} from './object-store.ts';
import type { UrlSigner } from './url-signer.ts';

export { verifySignedRequest } from './url-signer.ts';

export interface FsObjectStoreOptions {
  /** Usually `DATA_DIR/objects`. */
  rootDir: string;
  signer: UrlSigner;
}

/** Temp files older than this are leftovers of a crashed process and are removed at start-up. */
const STALE_TEMP_MS = 24 * 3600 * 1000;

/** Write failures that mean the disk cannot take objects at all right now. */
const UNWRITABLE = ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO'];

/** Content type when an object has no metadata file (written by hand, or a crash between two renames). */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4', '.m4v': 'video/x-m4v', '.mov': 'video/quicktime', '.avi': 'video/x-msvideo',
  '.mkv': 'video/x-matroska', '.webm': 'video/webm', '.wmv': 'video/x-ms-wmv', '.flv': 'video/x-flv',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.bmp': 'image/bmp', '.tif': 'image/tiff',
  '.tiff': 'image/tiff', '.webp': 'image/webp', '.json': 'application/json', '.pdf': 'application/pdf',
  '.csv': 'text/csv',
};

/**
 * Objects on local disk. Three sibling trees keep object names and bookkeeping apart, so no key can collide with a
 * metadata or temp file: `blobs/<key>` (the bytes), `meta/<key>.json` (content type), `tmp/` (uploads in flight).
 * A put writes a temp file on the same file system and renames it into place, so readers see the old object or the
 * whole new one, never a partial file; a failed, aborted or oversize put only removes its temp file.
 */
export class FsObjectStore implements ObjectStore {
  private readonly blobsDir: string;
  private readonly metaDir: string;
  private readonly tmpDir: string;
  private readonly signer: UrlSigner;
  private initialized: Promise<void> | undefined;

  constructor({ rootDir, signer }: FsObjectStoreOptions) {
    const root = path.resolve(rootDir);
    this.blobsDir = path.join(root, 'blobs');
    this.metaDir = path.join(root, 'meta');
    this.tmpDir = path.join(root, 'tmp');
    this.signer = signer;
  }

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<{ size: number }> {
    assertValidKey(key);
    await this.init();
    const tmp = path.join(this.tmpDir, randomUUID());
    let size = 0;
    try {
      const counted = async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length;
          yield chunk;
        }
      };
      // flush: fsync before close, so the rename below never publishes a file whose bytes are not on disk.
      await pipeline(limitedChunks(body, opts), counted, createWriteStream(tmp, { flags: 'wx', flush: true }));
      await this.publish(key, tmp, opts.contentType);
      return { size };
    } catch (error) {
      await removeQuietly(tmp);
      // A full, read-only or inaccessible disk is the store failing, not the request: a 503, not a 500.
      if (isCode(error, ...UNWRITABLE)) {
        throw new ObjectStoreUnavailableError(`Local object store cannot write (${(error as { code: string }).code})`, { cause: error });
      }
      throw error;
    }
  }

  async putBuffer(key: string, body: Uint8Array, opts: { contentType?: string } = {}): Promise<void> {
    await this.put(key, Readable.from([body]), opts.contentType === undefined ? {} : { contentType: opts.contentType });
  }

  async get(key: string, opts: GetOptions = {}): Promise<Readable> {
    const file = this.blobPath(key);
    const handle = await fs.open(file, 'r').catch((error: unknown) => {
      throw translate(error, key);
    });
    const { range, signal } = opts;
    return handle.createReadStream({
      autoClose: true,
      ...(range ? { start: range.start, end: range.end } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  async getBuffer(key: string): Promise<Buffer> {
    return fs.readFile(this.blobPath(key)).catch((error: unknown) => {
      throw translate(error, key);
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const file = this.blobPath(key);
    const stat = await fs.stat(file).catch((error: unknown) => {
      if (isCode(error, 'ENOENT', 'ENOTDIR')) return null;
      throw translate(error, key);
    });
    if (!stat?.isFile()) return null;
    const meta = await this.metaOf(key);
    // An object without metadata (written by hand) still gets a version that changes with each write of its file.
    return { size: stat.size, contentType: meta.contentType, version: meta.version ?? `f${stat.ino}-${stat.mtimeMs}-${stat.size}` };
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    const from = this.blobPath(fromKey);
    const to = this.blobPath(toKey);
    await this.init();
    const stat = await fs.stat(from).catch(() => null);
    if (!stat?.isFile()) throw new ObjectNotFoundError(fromKey);
    if (fromKey === toKey) return;
    try {
      // Metadata first, as in publish: the bytes never appear under the new key with the old object's type. An
      // object without metadata (written by hand) must not inherit the type of the one it replaces.
      await renameMakingParents(this.metaPath(fromKey), this.metaPath(toKey)).catch(async (error: unknown) => {
        if (!isCode(error, 'ENOENT')) throw error;
        await removeQuietly(this.metaPath(toKey));
      });
      await renameMakingParents(from, to);
    } catch (error) {
      if (isCode(error, 'ENOTDIR', 'EISDIR', 'EEXIST')) {
        throw new ObjectKeyError('the key collides with an existing object or folder');
      }
      throw translate(error, fromKey);
    }
    await pruneEmptyDirs(path.dirname(from), this.blobsDir);
    await pruneEmptyDirs(path.dirname(this.metaPath(fromKey)), this.metaDir);
  }

  async delete(key: string): Promise<void> {
    const file = this.blobPath(key);
    await removeQuietly(file);
    await removeQuietly(this.metaPath(key));
    await pruneEmptyDirs(path.dirname(file), this.blobsDir);
    await pruneEmptyDirs(path.dirname(this.metaPath(key)), this.metaDir);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix, { allowEmpty: false });
    const objects = await this.list(prefix);
    for (const { key } of objects) await this.delete(key);
    return objects.length;
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    assertValidPrefix(prefix, { allowEmpty: true });
    // Only the folder the prefix ends in needs walking; S3-style string prefixes (`videos/u1` also matches
    // `videos/u10/...`) are honoured by filtering the walked keys.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found: Array<{ key: string; size: number }> = [];
    await walk(folder ? path.join(this.blobsDir, ...folder.split('/')) : this.blobsDir, folder, async (key, file) => {
      if (!key.startsWith(prefix)) return;
      const stat = await fs.stat(file).catch(() => null);
      if (stat?.isFile()) found.push({ key, size: stat.size });
    }, prefix);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async signedGetUrl(key: string, opts: { expiresInSeconds: number; filename?: string }): Promise<string> {
    assertValidKey(key);
    // Nothing there yet: a version no object has, so the URL never serves what a later upload puts at the key.
    const version = (await this.head(key))?.version ?? 'none';
    return this.signer.signedUrl('GET', key, { ...opts, version });
  }

  async signedPutUrl(key: string, opts: { expiresInSeconds: number; contentType?: string }): Promise<string> {
    assertValidKey(key);
    return this.signer.signedUrl('PUT', key, { expiresInSeconds: opts.expiresInSeconds });
  }

  async ping(): Promise<void> {
    try {
      await this.init();
      await fs.access(this.tmpDir, fsConstants.W_OK);
    } catch (error) {
      throw new ObjectStoreUnavailableError('Local object store is not writable', { cause: error });
    }
  }

  /** Moves a finished temp file into place; the metadata goes first so the new bytes never show a stale type. */
  private async publish(key: string, tmp: string, contentType: string | undefined): Promise<void> {
    const dest = this.blobPath(key);
    const metaDest = this.metaPath(key);
    const metaTmp = `${tmp}.meta`;
    try {
      const meta = { contentType: contentType ?? DEFAULT_CONTENT_TYPE, version: randomUUID() };
      await fs.writeFile(metaTmp, JSON.stringify(meta), { flag: 'wx' });
      await renameMakingParents(metaTmp, metaDest);
      await renameMakingParents(tmp, dest);
    } catch (error) {
      await removeQuietly(metaTmp);
      if (isCode(error, 'ENOTDIR', 'EISDIR', 'EEXIST')) {
        throw new ObjectKeyError('the key collides with an existing object or folder');
      }
      throw error;
    }
  }

  private async metaOf(key: string): Promise<{ contentType: string; version?: string }> {
    const fallback = CONTENT_TYPES[path.extname(key).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
    try {
      const meta = JSON.parse(await fs.readFile(this.metaPath(key), 'utf8')) as { contentType?: unknown; version?: unknown };
      return {
        contentType: typeof meta.contentType === 'string' ? meta.contentType : fallback,
        ...(typeof meta.version === 'string' ? { version: meta.version } : {}),
      };
    } catch {
      // Missing or unreadable metadata: fall back to the extension.
      return { contentType: fallback };
    }
  }

  private blobPath(key: string): string {
    return this.inside(this.blobsDir, key, '');
  }

  private metaPath(key: string): string {
    return this.inside(this.metaDir, key, '.json');
  }

  private inside(dir: string, key: string, suffix: string): string {
    assertValidKey(key);
    const file = path.join(dir, ...key.split('/')) + suffix;
    // Belt and braces: assertValidKey already makes escaping impossible.
    if (!file.startsWith(dir + path.sep)) throw new ObjectKeyError('the key leaves the store');
    return file;
  }

  private init(): Promise<void> {
    this.initialized ??= (async () => {
      await fs.mkdir(this.tmpDir, { recursive: true });
      await fs.mkdir(this.blobsDir, { recursive: true });
      await fs.mkdir(this.metaDir, { recursive: true });
      const now = Date.now();
      for (const name of await fs.readdir(this.tmpDir)) {
        const file = path.join(this.tmpDir, name);
        const stat = await fs.stat(file).catch(() => null);
        if (stat && now - stat.mtimeMs > STALE_TEMP_MS) await removeQuietly(file);
      }
    })().catch((error: unknown) => {
      this.initialized = undefined;
      throw error;
    });
    return this.initialized;
  }
}

async function walk(
  dir: string, keyPrefix: string, visit: (key: string, file: string) => Promise<void>, wanted: string,
): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    if (isCode(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  });
  for (const entry of entries) {
    const key = keyPrefix ? `${keyPrefix}/${entry.name}` : entry.name;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // Skip folders that cannot hold a match: neither a prefix of the wanted prefix nor under it.
      if (`${key}/`.startsWith(wanted) || wanted.startsWith(`${key}/`)) await walk(file, key, visit, wanted);
    } else if (entry.isFile()) {
      await visit(key, file);
    }
  }
}

async function renameMakingParents(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await fs.mkdir(path.dirname(to), { recursive: true });
    try {
      await fs.rename(from, to);
      return;
    } catch (error) {
      // A concurrent delete may prune the folder between mkdir and rename: make it again, once.
      if (attempt > 0 || !isCode(error, 'ENOENT')) throw error;
    }
  }
}

async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stopAt + path.sep)) {
    try {
      await fs.rmdir(current);
    } catch {
      return; // not empty (or already gone): the folders above are not empty either
    }
    current = path.dirname(current);
  }
}

async function removeQuietly(file: string): Promise<void> {
  await fs.rm(file, { force: true }).catch(() => {});
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes((error as { code?: string }).code ?? '');
}

function translate(error: unknown, key: string): unknown {
  if (isCode(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) return new ObjectNotFoundError(key);
  return error;
}
