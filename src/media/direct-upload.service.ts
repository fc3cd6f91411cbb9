import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AnalysesRepository, Analysis, MediaFile } from '../analysis/analyses.repository.ts';
import { errors, isAppError } from '../errors/app-error.ts';
import { transactionExecutor } from '../infra/db/transaction-executor.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { SignedPutGate, SignedPutPermit } from '../infra/object-store/url-signer.ts';
import type { JobQueue } from '../infra/queue/job-queue.ts';
import type { UploadView } from '../posture/index.ts';
import type { MediaKind } from '../pose/media-sniff.ts';
import { claimWaitingAnalysis } from './direct-upload.repository.ts';
import { FILE_BESIDE_VIEWS, VIEW_FIELDS, type MediaUploadService } from './media-upload.service.ts';
import { parseMediaKey, type CreatedObject, type MediaKeyParts, type SkippedRecord } from './minio-webhook.ts';
import { checkStoredMedia, UNSUPPORTED_MEDIA } from './stored-media-check.ts';
import type { SubjectFieldsInput } from './subject-fields.ts';

/** Declared extension → what the content must turn out to be, the PUT's Content-Type and the key's extension. */
const DECLARED: Readonly<Record<string, { kind: MediaKind; contentType: string; ext: string }>> = {
  mp4: { kind: 'video', contentType: 'video/mp4', ext: 'mp4' },
  mov: { kind: 'video', contentType: 'video/quicktime', ext: 'mov' },
  avi: { kind: 'video', contentType: 'video/x-msvideo', ext: 'avi' },
  mkv: { kind: 'video', contentType: 'video/x-matroska', ext: 'mkv' },
  webm: { kind: 'video', contentType: 'video/webm', ext: 'webm' },
  m4v: { kind: 'video', contentType: 'video/x-m4v', ext: 'm4v' },
  wmv: { kind: 'video', contentType: 'video/x-ms-wmv', ext: 'wmv' },
  flv: { kind: 'video', contentType: 'video/x-flv', ext: 'flv' },
  jpg: { kind: 'image', contentType: 'image/jpeg', ext: 'jpg' },
  jpeg: { kind: 'image', contentType: 'image/jpeg', ext: 'jpg' },
  png: { kind: 'image', contentType: 'image/png', ext: 'png' },
  bmp: { kind: 'image', contentType: 'image/bmp', ext: 'bmp' },
  tiff: { kind: 'image', contentType: 'image/tiff', ext: 'tiff' },
  webp: { kind: 'image', contentType: 'image/webp', ext: 'webp' },
};
const UNSUPPORTED = UNSUPPORTED_MEDIA;
/** Beside the media of a session, so deleting the session (a prefix delete) removes it too. */
const MANIFEST_NAME = 'direct-upload.json';

export interface DeclaredView {
  filename: string;
  content_type?: string;
  size?: number;
}

/** The person assessed (subject_name, subject_birth_date or subject_age, subject_notes) come as in the multipart upload. */
export interface PresignInput extends SubjectFieldsInput {
  session_id?: string;
  model?: string;
  profile?: string;
  /** The subject's height in cm; checked with the other fields. */
  height_cm?: number;
  /** Who to analyse: the multipart upload's `person` field; checked with the other fields. */
  person?: string | number;
  views: Record<string, DeclaredView>;
}

export interface PresignedUpload {
  field: string;
  url: string;
  key: string;
  contentType: string;
}

export interface FinalizeResult {
  analysis: Analysis;
  stored: MediaFile[];
  failures: Array<{ field: string; filename: string; error: string }>;
}

export interface WebhookReport {
  processed: number;
  queued: Array<{ session_id: string; analysis_id: string }>;
  skipped: SkippedRecord[];
}

/**
 * What presign promised: the views the session waits for. Written once; finalizing removes it. Each view is PUT to
 * its `uploadKey` (random per presign, so a URL of an earlier reservation of the session id matches nothing) and
 * finalize moves it to `key` before checking it: no signed URL, S3's included, can write the checked object.
 * Version 1 manifests (written before upload keys) PUT straight to `key`.
 */
interface Manifest {
  version: 1 | 2;
  analysisId: string;
  views: Array<{
    field: string; view: UploadView; key: string; uploadKey?: string; filename: string; kind: MediaKind; contentType: string;
  }>;
}
type ManifestView = Manifest['views'][number];

export interface DirectUploadDeps {
  uploads: MediaUploadService;
  analyses: AnalysesRepository;
  store: ObjectStore;
  queue: JobQueue;
  maxFileBytes: number;
  signedUrlTtlSeconds: number;
  log?: { warn(details: object, message: string): void };
}

/**
 * Direct upload of big files: presign reserves the session and hands out PUT URLs; the objects then go straight to
 * the store; finalize (called by the client, or by the bucket webhook once every view has arrived) checks each
 * object's content exactly as the multipart upload does and queues the analysis once.
 */
export class DirectUploadService implements SignedPutGate {
  /** Finalizations running in this process, so a webhook and a client call do not check the same objects twice. */
  private readonly finalizing = new Set<string>();
  /** Upload keys with a PUT in flight in this process: a second PUT to the same URL meanwhile is refused. */
  private readonly uploading = new Set<string>();

  constructor(private readonly deps: DirectUploadDeps) {}

  async presign(userId: string, input: PresignInput): Promise<{ analysis: Analysis; expiresIn: number; uploads: PresignedUpload[] }> {
    const fields = this.deps.uploads.parseFields(input);
    const declared = Object.entries(input.views);
    if (declared.length === 0 || declared.length > 4) {
      throw errors.invalidRequest('Declare 1 to 4 views: front, left, right, back (or one file of unknown view)');
    }
    const planned = declared.map(([field, view]) => this.plan(field, view));
    // Results are kept per scoring view: a file of unknown view could be detected as one of the named views.
    if (planned.length > 1 && planned.some((p) => p.view === 'auto')) throw errors.invalidRequest(FILE_BESIDE_VIEWS);
    const analysis = await this.deps.uploads.open(userId, fields);
    try {
      const prefix = objectKeys.sessionMediaPrefix(userId, analysis.sessionId);
      const views = planned.map((p) => ({
        ...p, key: objectKeys.media(userId, analysis.sessionId, analysis.modelName, p.view, `.${p.ext}`),
        // Still a media key (`{x}_{view}.{ext}`), so the bucket's notification of the PUT reaches the webhook.
        uploadKey: `${prefix}upload-${randomBytes(12).toString('hex')}_${p.view}.${p.ext}`,
      }));
      const manifest: Manifest = {
        version: 2, analysisId: analysis.id,
        views: views.map(({ field, view, key, uploadKey, filename, kind, contentType }) => ({ field, view, key, uploadKey, filename, kind, contentType })),
      };
      await this.deps.store.putBuffer(manifestKey(analysis), Buffer.from(JSON.stringify(manifest)), { contentType: 'application/json' });
      const expiresIn = this.deps.signedUrlTtlSeconds;
      const uploads = await Promise.all(views.map(async (v) => ({
        field: v.field, key: v.uploadKey, contentType: v.contentType,
        url: await this.deps.store.signedPutUrl(v.uploadKey, { expiresInSeconds: expiresIn, contentType: v.contentType }),
      })));
      return { analysis, expiresIn, uploads };
    } catch (error) {
      await this.discard(analysis);
      throw error;
    }
  }

  /** The client's finalize: another user's session, like an unknown one, is 404. */
  async finalizeSession(userId: string, sessionId: string): Promise<FinalizeResult> {
    const analysis = await this.deps.analyses.findBySession(userId, sessionId);
    if (!analysis) throw errors.notFound('Session');
    return this.finalize(analysis);
  }

  /**
   * The bucket's announcements. A session is finalized once every view it reserved is in the store, by the same
   * code as the finalize route; every other record is skipped with its reason, never failing the rest.
   */
  async handleCreatedObjects(created: CreatedObject[], bucket: string | null): Promise<WebhookReport> {
    const report: WebhookReport = { processed: 0, queued: [], skipped: [] };
    const sessions = new Map<string, { userId: string; sessionId: string; keys: string[] }>();
    for (const object of created) {
      if (bucket !== null && object.bucket !== null && object.bucket !== bucket) {
        report.skipped.push({ key: object.key, reason: `Not this service's bucket (${object.bucket})` });
        continue;
      }
      const parts = parseMediaKey(object.key);
      if (!parts) {
        report.skipped.push({ key: object.key, reason: 'Not a media upload key' });
        continue;
      }
      const id = `${parts.userId}/${parts.sessionId}`;
      const session = sessions.get(id) ?? { userId: parts.userId, sessionId: parts.sessionId, keys: [] };
      session.keys.push(object.key);
      sessions.set(id, session);
    }
    for (const session of sessions.values()) await this.handleSessionObjects(session, report);
    return report;
  }

  private async handleSessionObjects(
    session: { userId: string; sessionId: string; keys: string[] }, report: WebhookReport,
  ): Promise<void> {
    const skip = (keys: string[], reason: string) => keys.forEach((key) => report.skipped.push({ key, reason }));
    let matched: string[] = [];
    try {
      const analysis = await this.deps.analyses.findBySession(session.userId, session.sessionId);
      if (!analysis) return skip(session.keys, 'Unknown session');
      const manifest = await this.readManifest(analysis);
      if (!manifest) {
        return skip(session.keys, await this.isQueued(analysis) ? 'Analysis already queued' : 'Session is not waiting for a direct upload');
      }
      const reserved = new Set(manifest.views.map(uploadKeyOf));
      matched = session.keys.filter((key) => reserved.has(key));
      skip(session.keys.filter((key) => !reserved.has(key)), 'Not a view reserved for this session');
      if (matched.length === 0) return;
      // Only the announcement of the last view finalizes: until then the session waits (or the client finalizes).
      const present = await Promise.all(manifest.views.map((v) => this.deps.store.head(uploadKeyOf(v))));
      if (present.every((info) => info !== null)) {
        await this.finalize(analysis);
        report.queued.push({ session_id: analysis.sessionId, analysis_id: analysis.id });
      }
      report.processed += matched.length;
    } catch (error) {
      if (!isAppError(error) || error.code === 'internal' || error.code === 'unavailable') {
        this.deps.log?.warn({ err: error, session: session.sessionId }, 'direct upload not finalized from the webhook');
      }
      skip(matched.length > 0 ? matched : session.keys, isAppError(error) ? error.message : 'Could not finalize the session');
    }
  }

  private async finalize(analysis: Analysis): Promise<FinalizeResult> {
    if (this.finalizing.has(analysis.id)) {
      throw errors.conflict('Session is already being finalized', { session_id: analysis.sessionId, analysis_id: analysis.id });
    }
    this.finalizing.add(analysis.id);
    try {
      return await this.checkAndCommit(analysis);
    } finally {
      this.finalizing.delete(analysis.id);
    }
  }

  private async checkAndCommit(analysis: Analysis): Promise<FinalizeResult> {
    if (await this.isQueued(analysis)) throw alreadyQueued(analysis);
    const manifest = await this.readManifest(analysis);
    if (!manifest) {
      // Another finalizer may have committed (and removed the manifest) since the check above.
      if (await this.isQueued(analysis)) throw alreadyQueued(analysis);
      throw errors.invalidRequest(`Session ${analysis.sessionId} was not opened for direct upload: use /api/video/upload/presign`);
    }
    const stored: MediaFile[] = [];
    const failures: FinalizeResult['failures'] = [];
    // One view after another: each check may run an ffprobe, and the machine has few cores.
    for (const entry of manifest.views) {
      const checked = await this.checkObject(entry);
      if ('error' in checked) {
        failures.push({ field: entry.field, filename: entry.filename, error: checked.error });
      } else {
        stored.push({
          analysisId: analysis.id, view: entry.view, objectKey: entry.key, originalFilename: entry.filename,
          fileType: entry.kind, sizeBytes: checked.size,
        });
      }
    }
    if (stored.length === 0) {
      await this.discard(analysis);
      throw errors.invalidRequest('No files were uploaded successfully', {
        details: failures.map((f) => `${f.field} (${f.filename}): ${f.error}`), errors: failures,
      });
    }
    const claim = await this.deps.analyses.withTransaction(async (tx) => {
      const outcome = await claimWaitingAnalysis(tx, analysis.id);
      if (outcome !== 'ok') return outcome;
      await this.deps.analyses.addMediaFiles(tx, stored);
      await this.deps.queue.send('analyse-session', { analysisId: analysis.id }, { tx: transactionExecutor(tx) });
      return outcome;
    });
    if (claim === 'gone') throw errors.notFound('Session');
    if (claim === 'already_queued') throw alreadyQueued(analysis);
    await this.deps.store.delete(manifestKey(analysis)).catch(() => {}); // a leftover is ignored once files exist
    return { analysis, stored, failures };
  }

  /**
   * Takes the upload into its final key, where no signed URL can write, and checks it there: the size of an
   * acceptable object, otherwise the reason (a bad object is deleted). A finalize that failed after the move finds
   * the object at its final key and checks it again.
   */
  private async checkObject(entry: ManifestView): Promise<{ size: number } | { error: string }> {
    const { store, maxFileBytes } = this.deps;
    const uploadKey = uploadKeyOf(entry);
    if (uploadKey !== entry.key && await store.head(uploadKey)) {
      await store.move(uploadKey, entry.key).catch((error: unknown) => {
        // Another finalizer (another API process) moved it first: it is at the final key all the same.
        if (!(isAppError(error) && error.code === 'not_found')) throw error;
      });
    }
    const verdict = await checkStoredMedia(store, entry.key, { kind: entry.kind, maxBytes: maxFileBytes, name: entry.filename });
    if (verdict.ok) return { size: verdict.size };
    if (!verdict.missing) await store.delete(entry.key);
    return { error: verdict.reason };
  }

  /**
   * The signed-files route asks this before a PUT: only to an upload key of a session still waiting for its direct
   * upload, not while it is being finalized, and once (a stored object, or a PUT in flight here, uses the URL up).
   * After the body is stored, `confirm` asks again, so a PUT that raced a finalize or a delete leaves nothing.
   */
  async authorize(key: string): Promise<SignedPutPermit> {
    const parts = parseMediaKey(key);
    if (!parts) throw errors.forbidden('This URL does not accept uploads');
    if (this.uploading.has(key)) throw errors.conflict('This upload URL is already in use');
    this.uploading.add(key);
    try {
      await this.assertWaitingUpload(parts, key);
      if (await this.deps.store.head(key)) throw errors.conflict('This upload URL was already used: presign again to replace the file');
    } catch (error) {
      this.uploading.delete(key);
      throw error;
    }
    return {
      confirm: () => this.assertWaitingUpload(parts, key).then(() => true, (error: unknown) => {
        if (isAppError(error) && (error.code === 'conflict' || error.code === 'forbidden')) return false;
        throw error;
      }),
      release: () => this.uploading.delete(key),
    };
  }

  private async assertWaitingUpload(parts: MediaKeyParts, key: string): Promise<void> {
    const gone = () => errors.forbidden('This upload URL is no longer valid: its session was deleted or never reserved it');
    const analysis = await this.deps.analyses.findBySession(parts.userId, parts.sessionId);
    if (!analysis) throw gone();
    if (this.finalizing.has(analysis.id)) throw errors.conflict('Session is being finalized: it takes no more uploads');
    const queued = await this.isQueued(analysis).catch((error: unknown) => {
      throw isAppError(error) && error.code === 'not_found' ? gone() : error;
    });
    if (queued) throw alreadyQueued(analysis);
    const manifest = await this.readManifest(analysis);
    if (!manifest?.views.some((v) => uploadKeyOf(v) === key)) throw gone();
  }

  /** Presign's plan for one declared view; refuses the whole request before anything is reserved. */
  private plan(field: string, declared: DeclaredView) {
    const view = VIEW_FIELDS[field];
    if (!view) throw errors.invalidRequest(`Unknown view "${field}": use front, left, right, back (or file)`);
    const filename = declared.filename.trim();
    const type = DECLARED[path.extname(filename).slice(1).toLowerCase()];
    if (!filename || !type) throw errors.invalidRequest(`${field} (${filename || 'no filename'}): ${UNSUPPORTED}`);
    if (declared.size !== undefined && declared.size > this.deps.maxFileBytes) {
      throw errors.invalidRequest(`${field} (${filename}): File too large: the limit is ${Math.floor(this.deps.maxFileBytes / (1024 * 1024))} MiB`);
    }
    const asked = declared.content_type?.trim().toLowerCase();
    if (asked && !new RegExp(`^${type.kind}/[a-z0-9.+-]+$`).test(asked)) {
      throw errors.invalidRequest(`${field} (${filename}): content_type ${asked} does not match a .${type.ext} ${type.kind}`);
    }
    // A browser PUTs a File with its own type, so a plausible declared type is kept; it is signed into S3 URLs.
    return { field, view, filename, kind: type.kind, ext: type.ext, contentType: asked || type.contentType };
  }

  private async readManifest(analysis: Analysis): Promise<Manifest | null> {
    let raw: Buffer;
    try {
      raw = await this.deps.store.getBuffer(manifestKey(analysis));
    } catch (error) {
      if (isAppError(error) && error.code === 'not_found') return null;
      throw error;
    }
    try {
      const manifest = JSON.parse(raw.toString('utf8')) as Manifest;
      // A manifest of an earlier analysis with the same session id is not this one's.
      return (manifest.version === 1 || manifest.version === 2) && manifest.analysisId === analysis.id && Array.isArray(manifest.views)
        ? manifest : null;
    } catch {
      return null;
    }
  }

  private async isQueued(analysis: Analysis): Promise<boolean> {
    const current = await this.deps.analyses.findById(analysis.id);
    if (!current) throw errors.notFound('Session');
    return current.status !== 'pending' || (await this.deps.analyses.mediaFiles(analysis.id)).length > 0;
  }

  /** Frees the session id: the manifest, and the reservation unless files were committed meanwhile. */
  private async discard(analysis: Analysis): Promise<void> {
    await this.deps.store.delete(manifestKey(analysis)).catch(() => {});
    await this.deps.uploads.discard(analysis, []);
  }
}

function manifestKey(analysis: Analysis): string {
  return `${objectKeys.sessionMediaPrefix(analysis.userId, analysis.sessionId)}${MANIFEST_NAME}`;
}

function alreadyQueued(analysis: Analysis) {
  return errors.conflict('Analysis already queued', {
    message: `Session ${analysis.sessionId} was already finalized; its analysis is queued or done`,
    session_id: analysis.sessionId, analysis_id: analysis.id,
  });
}

function uploadKeyOf(view: ManifestView): string {
  return view.uploadKey ?? view.key;
}
