import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';

export const PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000; // S3's limit: 8 MiB parts allow objects up to about 78 GiB

/**
 * Uploads an iterable of chunks with memory bounded by one part buffer (PART_SIZE), whatever the object's size.
 * A body that ends before filling the first part goes up as one PutObject; anything bigger as a multipart upload
 * that is aborted on any failure (oversize, abort, network), so no parts are left to be billed or completed later.
 * Parts go up one at a time: on two cores, throughput is bounded by the source (a client upload), not by S3 latency.
 */
export async function uploadInParts(
  client: S3Client,
  target: { bucket: string; key: string; contentType: string },
  chunks: AsyncIterable<Buffer>,
  signal: AbortSignal | undefined,
): Promise<{ size: number }> {
  const { bucket, key, contentType } = target;
  const sendOptions = signal ? { abortSignal: signal } : {};
  // One buffer, reused for every part: the SDK has finished reading it once UploadPart resolves.
  const buffer = Buffer.allocUnsafe(PART_SIZE);
  let filled = 0;
  let size = 0;
  let uploadId: string | undefined;
  const parts: CompletedPart[] = [];

  const flushPart = async () => {
    if (uploadId === undefined) {
      const created = await client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }), sendOptions);
      if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      uploadId = created.UploadId;
    }
    const partNumber = parts.length + 1;
    if (partNumber > MAX_PARTS) throw new Error(`Object needs more than ${MAX_PARTS} parts`);
    const body = buffer.subarray(0, filled);
    const uploaded = await client.send(new UploadPartCommand({
      Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length,
    }), sendOptions);
    parts.push({ PartNumber: partNumber, ETag: uploaded.ETag });
    filled = 0;
  };

  try {
    for await (const chunk of chunks) {
      size += chunk.length;
      let offset = 0;
      while (offset < chunk.length) {
        const copied = chunk.copy(buffer, filled, offset);
        filled += copied;
        offset += copied;
        if (filled === PART_SIZE) await flushPart();
      }
    }
    if (uploadId === undefined) {
      const body = buffer.subarray(0, filled);
      await client.send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType,
      }), sendOptions);
      return { size };
    }
    if (filled > 0) await flushPart();
    await client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts },
    }), sendOptions);
    return { size };
  } catch (error) {
    if (uploadId !== undefined) {
      // Not tied to the caller's signal: the abort must go out precisely when that signal has fired.
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => {}); // best effort; a bucket lifecycle rule should expire any stragglers (docs/storage.md)
    }
    throw error;
  }
}
