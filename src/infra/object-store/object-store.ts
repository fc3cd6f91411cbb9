import type { Readable } from 'node:stream';
import { AppError } from '../../errors/app-error.ts';

/**
 * Where media and results live: local disk for the one-command install, S3/MinIO when scaled out.
 * Keys are `/`-separated paths relative to the store (see docs/storage.md for the layout); every adapter validates
 * them with `assertValidKey`, so a key built from a hostile id can never leave the store's namespace.
 */
export interface ObjectStore {
  /**
   * Streams `body` to `key`; never holds the whole object in memory. Either the whole object is stored or nothing is:
   * an error, an abort or a body past `maxBytes` (ObjectTooLargeError) leaves no object and no partial upload behind.
   */
  put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<{ size: number }>;
  putBuffer(key: string, body: Uint8Array, opts?: { contentType?: string }): Promise<void>;
  /** Throws ObjectNotFoundError. `range` is inclusive on both ends, like HTTP's `bytes=start-end`. */
  get(key: string, opts?: GetOptions): Promise<Readable>;
  getBuffer(key: string): Promise<Buffer>;
  head(key: string): Promise<ObjectInfo | null>;
  /**
   * Moves an object (bytes and content type) to `toKey`, replacing whatever was there; `fromKey` is gone afterwards.
   * Throws ObjectNotFoundError when `fromKey` does not exist. Readers of `toKey` see the old object or the whole new
   * one; on S3 (a copy, then a delete) a crash in between can leave the source behind as well.
   */
  move(fromKey: string, toKey: string): Promise<void>;
  /** Idempotent: deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix` (a string prefix, as in S3); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<Array<{ key: string; size: number }>>;
  /** Time-limited URL a browser can GET without a token; `filename` sets the download name. */
  signedGetUrl(key: string, opts: { expiresInSeconds: number; filename?: string }): Promise<string>;
  /** Time-limited URL for a direct PUT upload of big files (the client must send the same Content-Type). */
  signedPutUrl(key: string, opts: { expiresInSeconds: number; contentType?: string }): Promise<string>;
  /** Readiness: resolves when the store can be used, throws ObjectStoreUnavailableError otherwise. */
  ping(): Promise<void>;
}

export interface PutOptions {
  contentType?: string;
  /** The exact size when known up front (Content-Length): lets adapters refuse early and pick a single request. */
  contentLength?: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface GetOptions {
  signal?: AbortSignal;
  range?: { start: number; end: number };
}

export interface ObjectInfo {
  size: number;
  contentType?: string;
  /**
   * Tells this object apart from any other ever stored at the same key (a put after a delete, a move onto it), even
   * with the same bytes: signed GET URLs of the stores the API serves pin it. Absent on S3, whose presigned URLs S3
   * itself serves.
   */
  version?: string;
}

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const MAX_KEY_BYTES = 1024; // S3's own limit, applied everywhere so a key valid on disk is valid on S3.

/** Subclasses of AppError so the HTTP layer maps them with no extra code, and callers can still `instanceof`. */
export class ObjectNotFoundError extends AppError {
  constructor(readonly key: string) {
    super('not_found', 'File not found');
    this.name = 'ObjectNotFoundError';
  }
}

export class ObjectTooLargeError extends AppError {
  constructor(readonly maxBytes: number) {
    super('payload_too_large', `File is larger than the limit of ${maxBytes} bytes`, { max_bytes: maxBytes });
    this.name = 'ObjectTooLargeError';
  }
}

export class ObjectKeyError extends AppError {
  constructor(reason: string) {
    super('invalid_request', `Invalid object key: ${reason}`);
    this.name = 'ObjectKeyError';
  }
}

export class ObjectStoreUnavailableError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message);
    this.name = 'ObjectStoreUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * Keys are built from user ids, session ids and view names, so this is the one guard against path traversal:
 * no absolute paths, no `.`/`..` or empty segments, no backslashes, no control characters (NUL included).
 */
export function assertValidKey(key: string): void {
  assertValidPath(key, 'key');
  if (key.endsWith('/')) throw new ObjectKeyError('a key must not end with "/"');
}

/** A prefix follows the key rules except that it may be empty (list only) or end with `/`. */
export function assertValidPrefix(prefix: string, { allowEmpty }: { allowEmpty: boolean }): void {
  if (prefix === '') {
    if (allowEmpty) return;
    throw new ObjectKeyError('the prefix must not be empty');
  }
  assertValidPath(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'prefix');
}

function assertValidPath(value: string, what: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new ObjectKeyError(`the ${what} is empty`);
  if (Buffer.byteLength(value) > MAX_KEY_BYTES) throw new ObjectKeyError(`the ${what} is longer than ${MAX_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ObjectKeyError(`the ${what} contains a control character`);
  if (value.includes('\\')) throw new ObjectKeyError(`the ${what} contains a backslash`);
  if (value.startsWith('/')) throw new ObjectKeyError(`the ${what} is an absolute path`);
  if (/^[A-Za-z]:/.test(value)) throw new ObjectKeyError(`the ${what} is an absolute path`);
  for (const segment of value.split('/')) {
    if (segment === '') throw new ObjectKeyError(`the ${what} has an empty segment`);
    if (segment === '.' || segment === '..') throw new ObjectKeyError(`the ${what} has a "${segment}" segment`);
  }
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Iterates a body as Buffers, refusing it past `maxBytes` (or past a declared `contentLength`) as soon as the
 * limit is crossed, and stopping at once when `signal` aborts, even while waiting for a slow producer.
 */
export async function* limitedChunks(
  body: Readable | AsyncIterable<Uint8Array>,
  { maxBytes, contentLength, signal }: Pick<PutOptions, 'maxBytes' | 'contentLength' | 'signal'>,
): AsyncGenerator<Buffer> {
  if (contentLength !== undefined && maxBytes !== undefined && contentLength > maxBytes) {
    throw new ObjectTooLargeError(maxBytes);
  }
  signal?.throwIfAborted();
  const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  let size = 0;
  let finished = false;
  try {
    while (true) {
      const next = signal ? await nextOrAbort(iterator, signal) : await iterator.next();
      if (next.done) {
        finished = true;
        break;
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) throw new ObjectTooLargeError(maxBytes);
      if (contentLength !== undefined && size > contentLength) {
        throw new AppError('invalid_request', 'The body is longer than its declared Content-Length');
      }
      yield chunk;
    }
    if (contentLength !== undefined && size !== contentLength) {
      throw new AppError('invalid_request', 'The body is shorter than its declared Content-Length');
    }
  } finally {
    // Tell the producer we stopped early (destroys a Readable). Not awaited: a stalled producer would never answer.
    if (!finished) Promise.resolve(iterator.return?.(undefined)).catch(() => {});
  }
}

/**
 * `iterator.next()`, rejected as soon as `signal` aborts. One listener per call, removed when the call settles: a
 * `Promise.race` against one long-lived abort promise would leave a reaction on it per chunk, each holding that
 * chunk until the signal settles (the whole upload in memory).
 */
function nextOrAbort<T>(iterator: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T>> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987), made safe by `safeDownloadName`. */
export function attachmentDisposition(filename: string, contentType?: string): string {
  const clean = safeDownloadName(filename, contentType);
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`;
}

/** The extensions a download may keep for each content type we store; the first is the one added otherwise. */
const SAFE_EXTENSIONS: Readonly<Record<string, readonly string[]>> = {
  'video/mp4': ['mp4'], 'video/x-m4v': ['m4v', 'mp4'], 'video/quicktime': ['mov'], 'video/x-msvideo': ['avi'],
  'video/x-matroska': ['mkv'], 'video/webm': ['webm'], 'video/x-ms-wmv': ['wmv'], 'video/x-flv': ['flv'],
  'image/jpeg': ['jpg', 'jpeg'], 'image/png': ['png'], 'image/bmp': ['bmp'], 'image/tiff': ['tiff', 'tif'],
  'image/webp': ['webp'], 'application/json': ['json'], 'application/pdf': ['pdf'], 'text/csv': ['csv'],
};

/**
 * A download name a user chose, made harmless: no control characters (CR/LF would split the header), no bidi
 * controls (`evil\u202Egpj.html` displays as `evilhtml.jpg`), no quotes or path separators, at most 200 characters,
 * and an extension that matches the content type served, added when the name's own does not (`x.html` served as a
 * JPEG is saved as `x.html.jpg`, so no file manager opens it as a page). Unknown types get `.bin`.
 */
export function safeDownloadName(filename: string, contentType?: string): string {
  const clean = filename
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/["\\/]/g, '_')
    .trim()
    .slice(0, 200) || 'download';
  const type = (contentType ?? DEFAULT_CONTENT_TYPE).split(';')[0]!.trim().toLowerCase();
  const allowed = SAFE_EXTENSIONS[type] ?? familyExtensions(type);
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 ? clean.slice(dot + 1).toLowerCase() : '';
  return allowed.includes(ext) ? clean : `${clean}.${allowed[0]}`;
}

/** A client may declare any `image/*` or `video/*` type for its upload: any extension of that family is as safe. */
function familyExtensions(type: string): readonly string[] {
  const family = type.split('/')[0];
  if (family !== 'image' && family !== 'video') return ['bin'];
  return Object.entries(SAFE_EXTENSIONS).filter(([t]) => t.startsWith(`${family}/`)).flatMap(([, exts]) => exts);
}

/** The content type our keys' extensions stand for (every stored key is built with one), for names signed blind. */
export function contentTypeOfKey(key: string): string | undefined {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return Object.entries(SAFE_EXTENSIONS).find(([, exts]) => exts.includes(ext))?.[0];
}
