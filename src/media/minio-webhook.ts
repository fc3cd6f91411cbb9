import { createHash, timingSafeEqual } from 'node:crypto';
import type { UploadView } from '../posture/index.ts';

/**
 * The object store's side of a direct upload: S3/MinIO bucket notifications (`POST /api/minio/webhook`). Pure
 * parsing and checks, no I/O: every record becomes either an "object created" with a decoded key or a reason to
 * skip it, so one malformed record never spoils the others.
 */

export interface CreatedObject {
  key: string;
  bucket: string | null;
  size: number | null;
}

export interface SkippedRecord {
  key: string;
  reason: string;
}

/** `videos/{user_id}/{session_id}/{model}_{view}.{ext}`, as `objectKeys.media` builds it. */
export interface MediaKeyParts {
  userId: string;
  sessionId: string;
  model: string;
  view: UploadView;
  ext: string;
}

const MEDIA_KEY = /^videos\/([^/]+)\/([A-Za-z0-9_-]{1,64})\/([^/_]+)_(front|left|right|back|auto)\.([a-z0-9]{1,5})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True when the request carries the configured secret, as MinIO sends it (`Authorization: Bearer <secret>`, or the
 * bare token of older versions) or in `X-Webhook-Secret`. No secret configured: nothing is accepted. Both sides are
 * hashed first so the constant-time comparison also hides the secret's length.
 */
export function hasWebhookSecret(headers: Record<string, string | string[] | undefined>, secret: string | null): boolean {
  if (!secret) return false;
  const presented: string[] = [];
  const authorization = headers.authorization;
  if (typeof authorization === 'string') presented.push(authorization.replace(/^Bearer\s+/i, '').trim());
  const header = headers['x-webhook-secret'];
  if (typeof header === 'string') presented.push(header.trim());
  const expected = digest(secret);
  // Every candidate is compared (no early exit), so timing does not tell which header was checked.
  return presented.map((value) => timingSafeEqual(digest(value), expected)).reduce((a, b) => a || b, false);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * The records of an S3/MinIO event notification (`{Records: [{eventName, s3: {bucket: {name}, object: {key, size}}}]}`).
 * Keys arrive URL-encoded with `+` for spaces, as S3 sends them. A body without `Records` (S3's `s3:TestEvent`)
 * has nothing to do.
 */
export function parseBucketNotification(body: unknown): { created: CreatedObject[]; skipped: SkippedRecord[] } {
  const created: CreatedObject[] = [];
  const skipped: SkippedRecord[] = [];
  const records = isObject(body) ? body.Records : undefined;
  if (!Array.isArray(records)) return { created, skipped };
  records.forEach((record: unknown, index) => {
    const s3 = isObject(record) && isObject(record.s3) ? record.s3 : null;
    const object = s3 && isObject(s3.object) ? s3.object : null;
    const rawKey = object && typeof object.key === 'string' ? object.key : null;
    if (!isObject(record) || rawKey === null) {
      skipped.push({ key: `#${index}`, reason: 'Malformed record: no s3.object.key' });
      return;
    }
    const key = decodeKey(rawKey);
    if (key === null) {
      skipped.push({ key: rawKey, reason: 'Malformed record: the key is not valid URL encoding' });
      return;
    }
    const eventName = typeof record.eventName === 'string' ? record.eventName : '';
    if (!/^(s3:)?ObjectCreated:/.test(eventName)) {
      skipped.push({ key, reason: `Not an object creation (${eventName || 'no eventName'})` });
      return;
    }
    const bucket = isObject(s3!.bucket) && typeof s3!.bucket.name === 'string' ? s3!.bucket.name : null;
    const size = typeof object!.size === 'number' && Number.isFinite(object!.size) ? object!.size : null;
    created.push({ key, bucket, size });
  });
  return { created, skipped };
}

/** The parts of a media key, or null for any other key (results, the upload manifest, foreign objects). */
export function parseMediaKey(key: string): MediaKeyParts | null {
  const match = MEDIA_KEY.exec(key);
  if (!match || !UUID.test(match[1]!)) return null;
  return { userId: match[1]!, sessionId: match[2]!, model: match[3]!, view: match[4]! as UploadView, ext: match[5]! };
}

function decodeKey(raw: string): string | null {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
