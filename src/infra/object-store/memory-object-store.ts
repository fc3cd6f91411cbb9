import { Readable } from 'node:stream';
import {
  assertValidKey, assertValidPrefix, DEFAULT_CONTENT_TYPE, limitedChunks, ObjectNotFoundError,
  type GetOptions, type ObjectInfo, type ObjectStore, type PutOptions,
} from './object-store.ts';
import type { UrlSigner } from './url-signer.ts';

/**
 * In-memory fake for unit tests, same contract as the real adapters (it necessarily holds objects in memory, but a
 * put still stores nothing until the body has ended within its limit). Signed URLs are served by the signed-files
 * routes, like the local-disk store's.
 */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, { data: Buffer; contentType: string; version: string }>();
  private writes = 0;

  constructor(private readonly signer: UrlSigner) {}

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<{ size: number }> {
    assertValidKey(key);
    const chunks: Buffer[] = [];
    for await (const chunk of limitedChunks(body, opts)) chunks.push(chunk);
    const data = Buffer.concat(chunks);
    this.objects.set(key, { data, contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE, version: this.nextVersion() });
    return { size: data.length };
  }

  async putBuffer(key: string, body: Uint8Array, opts: { contentType?: string } = {}): Promise<void> {
    assertValidKey(key);
    this.objects.set(key, { data: Buffer.from(body), contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE, version: this.nextVersion() });
  }

  async get(key: string, opts: GetOptions = {}): Promise<Readable> {
    const data = this.find(key).data;
    const slice = opts.range ? data.subarray(opts.range.start, opts.range.end + 1) : data;
    return Readable.from([slice], { objectMode: false });
  }

  async getBuffer(key: string): Promise<Buffer> {
    return Buffer.from(this.find(key).data);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    const object = this.objects.get(key);
    return object ? { size: object.data.length, contentType: object.contentType, version: object.version } : null;
  }

  async move(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(toKey);
    const object = this.find(fromKey);
    this.objects.delete(fromKey);
    this.objects.set(toKey, { ...object, version: this.nextVersion() });
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.objects.delete(key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix, { allowEmpty: false });
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix));
    for (const key of keys) this.objects.delete(key);
    return keys.length;
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    assertValidPrefix(prefix, { allowEmpty: true });
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, object]) => ({ key, size: object.data.length }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async signedGetUrl(key: string, opts: { expiresInSeconds: number; filename?: string }): Promise<string> {
    assertValidKey(key);
    return this.signer.signedUrl('GET', key, { ...opts, version: this.objects.get(key)?.version ?? 'none' });
  }

  async signedPutUrl(key: string, opts: { expiresInSeconds: number; contentType?: string }): Promise<string> {
    assertValidKey(key);
    return this.signer.signedUrl('PUT', key, { expiresInSeconds: opts.expiresInSeconds });
  }

  async ping(): Promise<void> {}

  private nextVersion(): string {
    return `m${++this.writes}`;
  }

  private find(key: string): { data: Buffer; contentType: string; version: string } {
    assertValidKey(key);
    const object = this.objects.get(key);
    if (!object) throw new ObjectNotFoundError(key);
    return object;
  }
}
