import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { isAppError } from '../../errors/app-error.ts';
import {
  abortReason, assertValidKey, assertValidPrefix, attachmentDisposition, contentTypeOfKey, DEFAULT_CONTENT_TYPE, limitedChunks, ObjectNotFoundError,
  ObjectStoreUnavailableError, ObjectTooLargeError, type GetOptions, type ObjectInfo, type ObjectStore,
  type PutOptions,
} from './object-store.ts';

export interface S3ObjectStoreConfig {
  /** Unset for AWS; `http://127.0.0.1:9000` for MinIO. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** MinIO and most S3 look-alikes need path-style URLs (`endpoint/bucket/key`). */
  forcePathStyle: boolean;
}

/** At or under this declared length a put is one PutObject (read whole first); above it, or when unknown, multipart. */
export const SINGLE_PUT_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Multipart uploads go through lib-storage's `Upload`, one 8 MiB part at a time: memory stays at about one part
 * (plus the chunks being gathered into it) whatever the object's size, and 8 MiB parts allow objects up to about
 * 78 GiB within S3's 10,000 parts. One part in flight is enough on two cores: throughput is bounded by the source
 * (a client upload), not by S3 latency.
 */
export const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 1;

/** S3 or any S3-compatible server (MinIO). S3 errors are translated here and never leave this file. */
export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly bucket: string;

  constructor(config: S3ObjectStoreConfig, client?: S3Client) {
    this.bucket = config.bucket;
    this.client = client ?? new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // Checksums only where S3 demands them: the default streaming trailers (aws-chunked) are not understood by
      // every S3-compatible server, and presigned URLs must not require headers a browser will not send.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<{ size: number }> {
    assertValidKey(key);
    const { contentLength, maxBytes, signal } = opts;
    const contentType = opts.contentType ?? DEFAULT_CONTENT_TYPE;
    if (contentLength !== undefined && maxBytes !== undefined && contentLength > maxBytes) {
      throw new ObjectTooLargeError(maxBytes);
    }
    const chunks = limitedChunks(body, opts);
    try {
      if (contentLength !== undefined && contentLength <= SINGLE_PUT_MAX_BYTES) {
        // Read whole (at most 16 MiB, the declared length) before sending: the request then starts only with a
        // complete, valid body, so a client that drops or lies about its length never reaches the bucket. Piping
        // the live stream instead lets a truncated body be stored by some S3-compatible servers, and a source
        // error would surface as an uncaught stream error inside the SDK.
        const body = Buffer.allocUnsafe(contentLength);
        let filled = 0;
        for await (const chunk of chunks) filled += chunk.copy(body, filled);
        await this.client.send(new PutObjectCommand({
          Bucket: this.bucket, Key: key, Body: body, ContentLength: contentLength, ContentType: contentType,
        }), signal ? { abortSignal: signal } : {});
        return { size: contentLength };
      }
      return await this.uploadInParts(key, contentType, chunks);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw this.translate(error, key);
    }
  }

  /**
   * The caller's signal is not handed to `Upload`: its own abort only rejects `done()` early and sends the
   * AbortMultipartUpload later, in the background. The signal reaches the body instead (`limitedChunks`), so an
   * abort, like an oversize body, fails the source; `Upload` then waits for the part in flight and aborts the
   * multipart upload (`leavePartsOnError: false`) before `done()` rejects, leaving no parts to be billed.
   * A body that ends before filling the first part goes up as one PutObject.
   */
  private async uploadInParts(key: string, contentType: string, chunks: AsyncIterable<Buffer>): Promise<{ size: number }> {
    let size = 0;
    let sourceError: unknown;
    const counted = async function* () {
      try {
        for await (const chunk of chunks) {
          size += chunk.length;
          yield chunk;
        }
      } catch (error) {
        sourceError = error;
        throw error;
      }
    };
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, ContentType: contentType, Body: Readable.from(counted()) },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // The source's own failure (too large, aborted, short) is the cause to report, also when the cleanup after it
      // failed too: `Upload` then throws the AbortMultipartUpload error instead.
      throw sourceError ?? error;
    }
    return { size };
  }

  async putBuffer(key: string, body: Uint8Array, opts: { contentType?: string } = {}): Promise<void> {
    assertValidKey(key);
    await this.call(key, () => this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength,
      ContentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
    })));
  }

  async get(key: string, opts: GetOptions = {}): Promise<Readable> {
    assertValidKey(key);
    const { range, signal } = opts;
    const output = await this.call(key, () => this.client.send(new GetObjectCommand({
      Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
    }), signal ? { abortSignal: signal } : {}));
    if (!(output.Body instanceof Readable)) throw new ObjectStoreUnavailableError('Object store returned no body');
    return output.Body;
  }

  async getBuffer(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.get(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: output.ContentLength ?? 0, ...(output.ContentType ? { contentType: output.ContentType } : {}) };
    } catch (error) {
      const translated = this.translate(error, key);
      if (translated instanceof ObjectNotFoundError) return null;
      throw translated;
    }
  }

  /**
   * One CopyObject, then a DeleteObject. A single CopyObject takes sources up to 5 GiB (S3's limit; bigger ones need
   * a multipart copy), which holds because uploads are capped below that: UPLOAD_MAX_FILE_BYTES allows at most
   * 5 GiB, the limit a direct upload's single presigned PUT has anyway. A crash between the two calls leaves the
   * source in place too, never a half-written target.
   */
  async move(fromKey: string, toKey: string): Promise<void> {
    assertValidKey(fromKey);
    assertValidKey(toKey);
    if (fromKey === toKey) {
      if (!(await this.head(fromKey))) throw new ObjectNotFoundError(fromKey);
      return;
    }
    await this.call(fromKey, () => this.client.send(new CopyObjectCommand({
      Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
      MetadataDirective: 'COPY',
    })));
    await this.delete(fromKey);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.call(key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix, { allowEmpty: false });
    let deleted = 0;
    // List everything first: deleting while paginating would shift the pages under the continuation token.
    const keys = (await this.list(prefix)).map((o) => o.key);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const output = await this.call(prefix, () => this.client.send(new DeleteObjectsCommand({
        Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      })));
      const failed = output.Errors ?? [];
      if (failed.length > 0) {
        throw new ObjectStoreUnavailableError(`Could not delete ${failed.length} objects under ${prefix}`);
      }
      deleted += batch.length;
    }
    return deleted;
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    assertValidPrefix(prefix, { allowEmpty: true });
    const found: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    do {
      const output = await this.call(prefix, () => this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}),
      })));
      for (const object of output.Contents ?? []) {
        if (object.Key !== undefined) found.push({ key: object.Key, size: object.Size ?? 0 });
      }
      token = output.IsTruncated ? output.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async signedGetUrl(key: string, opts: { expiresInSeconds: number; filename?: string }): Promise<string> {
    assertValidKey(key);
    const command = new GetObjectCommand({
      Bucket: this.bucket, Key: key,
      ...(opts.filename !== undefined ? { ResponseContentDisposition: attachmentDisposition(opts.filename, contentTypeOfKey(key)) } : {}),
    });
    return getSignedUrl(this.client, command, { expiresIn: opts.expiresInSeconds });
  }

  async signedPutUrl(key: string, opts: { expiresInSeconds: number; contentType?: string }): Promise<string> {
    assertValidKey(key);
    const command = new PutObjectCommand({
      Bucket: this.bucket, Key: key, ...(opts.contentType ? { ContentType: opts.contentType } : {}),
    });
    return getSignedUrl(this.client, command, { expiresIn: opts.expiresInSeconds });
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (httpStatusOf(error) === 404) {
        throw new ObjectStoreUnavailableError(`Bucket ${this.bucket} does not exist`, { cause: error });
      }
      throw this.translate(error, '');
    }
  }

  /** For development and tests: makes the bucket when it does not exist yet. */
  async createBucketIfMissing(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw this.translate(error, '');
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw this.translate(error, '');
    }
  }

  close(): void {
    this.client.destroy();
  }

  /** Runs one S3 call, translating its failure at this boundary. */
  private async call<T>(key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.translate(error, key);
    }
  }

  /** S3 and network failures become the store's own errors; our own errors and aborts pass through untouched. */
  private translate(error: unknown, key: string): unknown {
    if (isAppError(error)) return error;
    const name = (error as { name?: string } | null)?.name;
    if (name === 'AbortError') return error;
    if (name === 'NoSuchKey' || name === 'NotFound' || (error instanceof S3ServiceException && httpStatusOf(error) === 404
      && name !== 'NoSuchBucket')) {
      return new ObjectNotFoundError(key);
    }
    if (name === 'EntityTooLarge') return new ObjectTooLargeError(5 * 1024 ** 3);
    const detail = error instanceof S3ServiceException ? `${error.name} (HTTP ${httpStatusOf(error) ?? '?'})`
      : (error as { code?: string } | null)?.code ?? name ?? 'unknown error';
    return new ObjectStoreUnavailableError(`Object store request failed: ${detail}`, { cause: error });
  }
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
