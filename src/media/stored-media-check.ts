import type { Readable } from 'node:stream';
import { isAppError } from '../errors/app-error.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import { SNIFF_BYTES, sniffMedia, type MediaKind } from '../pose/media-sniff.ts';
import { createMediaCheck } from './media-check.ts';

export const UNSUPPORTED_MEDIA = 'Unsupported file type: send a video (mp4, mov, avi, mkv, webm, m4v, wmv, flv) or an image (jpg, png, bmp, tiff, webp)';

export type StoredMediaVerdict = { ok: true; size: number } | { ok: false; reason: string; missing?: true };

/**
 * The content check of an upload, for bytes already in the store: size limit, magic bytes of the expected kind, then
 * the same decoder check as the multipart upload (sharp / ffprobe), reading no more than the decoder needs. Store
 * failures throw (the store failed, not the file); a bad file is a verdict, never deleted here. Finalize runs it,
 * and so should anything that reads media later (the analysis worker), since a store can be written behind our back.
 */
export async function checkStoredMedia(
  store: ObjectStore, key: string, expected: { kind: MediaKind; maxBytes: number; name?: string; signal?: AbortSignal },
): Promise<StoredMediaVerdict> {
  const info = await store.head(key);
  if (!info) return { ok: false, reason: 'Not uploaded: nothing was stored at the signed URL', missing: true };
  if (info.size > expected.maxBytes) {
    return { ok: false, reason: `File too large: the limit is ${Math.floor(expected.maxBytes / (1024 * 1024))} MiB` };
  }
  const head = info.size === 0
    ? Buffer.alloc(0)
    : await readAll(await store.get(key, { range: { start: 0, end: Math.min(info.size, SNIFF_BYTES) - 1 } }));
  const sniffed = sniffMedia(head);
  if (!sniffed) return { ok: false, reason: UNSUPPORTED_MEDIA };
  if (sniffed.kind !== expected.kind) {
    return { ok: false, reason: `The content is ${describe(sniffed.kind)} but ${expected.name ?? 'the file'} was declared as ${describe(expected.kind)}` };
  }
  const problem = await decodes(store, key, sniffed.kind, expected.signal);
  return problem === null ? { ok: true, size: info.size } : { ok: false, reason: problem };
}

/** Streams the object through the decoder check; stops reading once it has decided. */
async function decodes(store: ObjectStore, key: string, kind: MediaKind, signal?: AbortSignal): Promise<string | null> {
  const check = createMediaCheck(kind);
  let settled = false;
  check.result.then(() => (settled = true), () => (settled = true));
  try {
    const body = await store.get(key, signal ? { signal } : {});
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (settled) break; // ffprobe may have what it needs long before the end of a big video
      // The decoder may decide (and exit) while a write waits for room: its verdict ends the wait.
      await Promise.race([check.write(chunk), check.result.catch(() => {})]);
    }
    if (!settled) check.end();
  } catch (error) {
    check.abort();
    if (isAppError(error) || signal?.aborted) throw error;
    return `${kind === 'image' ? 'Image' : 'Video'} is corrupt or unreadable (${(error as Error).message.split('\n')[0]})`;
  }
  return check.result.then(() => null, (error: Error) => error.message);
}

function describe(kind: MediaKind): string {
  return kind === 'image' ? 'an image' : 'a video';
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `checkStoredMedia` as the analysis runner asks for it: the reason a stored upload is refused, or null. */
export function storedMediaChecker(store: ObjectStore, maxBytes: number) {
  return async (file: { objectKey: string; fileType: MediaKind; originalFilename: string }, signal: AbortSignal): Promise<string | null> => {
    const verdict = await checkStoredMedia(store, file.objectKey, { kind: file.fileType, maxBytes, name: file.originalFilename, signal });
    return verdict.ok ? null : verdict.reason;
  };
}
