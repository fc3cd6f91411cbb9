import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AnalysesRepository, Analysis, MediaFile, UserSubjectChoice } from '../analysis/analyses.repository.ts';
import { AppError, errors, isAppError } from '../errors/app-error.ts';
import { transactionExecutor } from '../infra/db/transaction-executor.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { JobQueue } from '../infra/queue/job-queue.ts';
import { SNIFF_BYTES, sniffMedia, type SniffedMedia } from '../pose/media-sniff.ts';
import { parseSubjectChoice } from '../pose/subject-tracks.ts';
import { SUBJECT_HEIGHT_RANGE_CM, type UploadView } from '../posture/index.ts';
import type { SubjectDetails } from '../analysis/subject-details.ts';
import { createMediaCheck } from './media-check.ts';
import { parseSubjectFields, type SubjectFieldsInput } from './subject-fields.ts';

/** Upload field → view; a lone `file` means "view unknown: detect it". */
export const VIEW_FIELDS: Readonly<Record<string, UploadView>> = { front: 'front', left: 'left', right: 'right', back: 'back', file: 'auto' };
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

const CONTENT_TYPES: Record<SniffedMedia['format'], string> = {
  jpg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', tiff: 'image/tiff', webp: 'image/webp', mp4: 'video/mp4',
  mov: 'video/quicktime', m4v: 'video/x-m4v', avi: 'video/x-msvideo', mkv: 'video/x-matroska', webm: 'video/webm',
  wmv: 'video/x-ms-wmv', flv: 'video/x-flv',
};

export interface SessionFields {
  sessionId: string;
  model: string;
  profile: string;
  /** The subject's height in cm (50-250) when given: the scale for the analysis' cm values. */
  subjectHeightCm?: number;
  /** Who to analyse in every view when several people are in it; absent: the automatic rule. */
  subjectChoice?: UserSubjectChoice;
  /** The person assessed (name, birth date or age, notes), each null when not given. */
  subject: SubjectDetails;
}

/** A file of a multipart upload, stored under its pending key until the request ends. */
export interface StagedFile {
  field: string;
  view: UploadView;
  pendingKey: string;
  /** The sniffed format's extension, with its dot. */
  ext: string;
  /** The client's name for the file, as sent (empty when it sent none). */
  filename: string;
  fileType: 'image' | 'video';
  sizeBytes: number;
}

export type FileOutcome =
  | { ok: true; file: StagedFile }
  | { ok: false; field: string; filename: string; error: string };

/**
 * One multipart request's files, staged under a prefix of their own: clients send the fields after the files as
 * often as before them, so the session (and with it the files' final keys) is known only when the body ends.
 */
export interface StagedUpload {
  readonly id: string;
  /** Every file part, in the order it arrived. */
  readonly outcomes: FileOutcome[];
}

export interface CommittedUpload {
  analysis: Analysis;
  files: MediaFile[];
  failures: Array<{ field: string; filename: string; error: string }>;
}

/** The longest base name kept from a client's file name; keys stay readable and far below S3's 1024 bytes. */
const MAX_BASE_NAME = 100;
/** Why `file` (view unknown) cannot come with named views: its detected view could be one of them (issue 12, item 9). */
export const FILE_BESIDE_VIEWS = 'A file of unknown view ("file") cannot come with named views in the same upload: send "file" '
  + 'alone, or name its view (front, left, right or back)';

export interface MediaUploadDeps {
  analyses: AnalysesRepository;
  store: ObjectStore;
  queue: JobQueue;
  models: () => readonly string[];
  profiles: () => readonly string[];
  maxFileBytes: number;
}

/**
 * A media session upload: stage each file as it streams in (sniffed, size-limited, checked) under a pending key,
 * then, once the body has ended, either commit (reserve the session id, move every file to its key, record the rows
 * and queue the analysis in one transaction) or discard everything, so a failed request leaves nothing behind.
 */
export class MediaUploadService {
  constructor(private readonly deps: MediaUploadDeps) {}

  parseFields(fields: {
    session_id?: string; model?: string; profile?: string; height_cm?: string | number; person?: string | number;
  } & SubjectFieldsInput): SessionFields {
    const sessionId = fields.session_id?.trim();
    if (!sessionId) {
      // The curl examples of the studio document omit it; Postura does not invent one (docs/compatibility.md).
      throw new AppError('missing_fields', 'Missing session_id', {
        message: 'Missing session_id: add a session_id field (1 to 64 letters, digits, "_" or "-") naming this upload; '
          + 'it is how you find, retry or delete it later',
      });
    }
    if (!SESSION_ID.test(sessionId)) {
      throw errors.invalidRequest('Invalid session_id: use 1 to 64 letters, digits, "_" or "-"');
    }
    const model = fields.model?.trim() || 'cx';
    const models = this.deps.models();
    if (!models.includes(model)) {
      throw errors.invalidRequest(
        `Invalid model: ${model}. Available models: [${models.map((m) => `'${m}'`).join(', ')}]`,
        { available_models: [...models] },
      );
    }
    const profile = fields.profile?.trim() || 'stance';
    if (!this.deps.profiles().includes(profile)) {
      throw errors.invalidRequest(`Invalid profile: ${profile}. Available profiles: ${this.deps.profiles().join(', ')}`);
    }
    const subjectHeightCm = parseHeightCm(fields.height_cm);
    const subjectChoice = parsePerson(fields.person);
    return {
      sessionId, model, profile, subject: parseSubjectFields(fields),
      ...(subjectHeightCm === undefined ? {} : { subjectHeightCm }),
      ...(subjectChoice === undefined ? {} : { subjectChoice }),
    };
  }

  /** Reserves the session id for this user; a taken one is a conflict that lists the files already there. */
  async open(userId: string, fields: SessionFields): Promise<Analysis> {
    const analysis = await this.deps.analyses.reserve({
      id: randomUUID(), userId, sessionId: fields.sessionId, modelName: fields.model, profile: fields.profile,
      subjectHeightCm: fields.subjectHeightCm ?? null, subjectChoice: fields.subjectChoice ?? null, subject: fields.subject,
    });
    if (analysis) return analysis;
    const existing = await this.deps.analyses.findBySession(userId, fields.sessionId);
    const files = existing ? await this.deps.analyses.mediaFiles(existing.id) : [];
    throw errors.conflict('session_id already exists', {
      message: `Session ${fields.sessionId} already has an analysis; delete it first or use another session_id`,
      existing_files: files.map((f) => f.objectKey.split('/').at(-1)),
    });
  }

  stage(now = Date.now()): StagedUpload {
    return { id: `${now}-${randomUUID()}`, outcomes: [] };
  }

  /**
   * Deletes the pending files of uploads that started more than `maxAgeMs` ago: what a process that crashed mid-upload
   * left behind (a live request always ends in a commit or a discard). Returns how many objects went.
   */
  async sweepAbandoned(maxAgeMs: number, now = Date.now()): Promise<number> {
    const root = objectKeys.pendingUploadsRoot;
    const abandoned = (await this.deps.store.list(root)).filter(({ key }) => {
      const started = Number(/^(\d+)-/.exec(key.slice(root.length))?.[1]);
      return !Number.isFinite(started) || now - started > maxAgeMs;
    });
    await Promise.all(abandoned.map(({ key }) => this.deps.store.delete(key)));
    return abandoned.length;
  }

  /** Streams one file to its pending key. Problems with this file are its outcome, not a failure of the request. */
  async stageFile(
    upload: StagedUpload,
    part: { field: string; filename: string; stream: Readable },
    signal?: AbortSignal,
  ): Promise<void> {
    upload.outcomes.push(await this.storeFile(upload, part, signal));
  }

  /**
   * Ends an upload whose body has been read: checks the fields, reserves the session id, moves the files to their
   * keys and commits. Whatever it throws (a bad field, a taken session id, no file stored, a store or database
   * failure), nothing of the upload remains.
   */
  async commitStaged(
    userId: string,
    upload: StagedUpload,
    fields: Parameters<MediaUploadService['parseFields']>[0],
  ): Promise<CommittedUpload> {
    try {
      await this.refuseFileBesideViews(upload);
      const parsed = this.parseFields(fields);
      const staged = upload.outcomes.flatMap((o) => (o.ok ? [o.file] : []));
      const failures = upload.outcomes.flatMap((o) => (o.ok ? [] : [{ field: o.field, filename: o.filename, error: o.error }]));
      if (staged.length === 0) {
        throw errors.invalidRequest('No files were uploaded successfully', failures.length === 0
          ? { details: ['No file fields in the request'] }
          : { details: failures.map((f) => `${f.field} (${f.filename}): ${f.error}`), errors: failures });
      }
      // Reserved before anything moves: the final keys belong to the session, and a taken one's files stay untouched.
      const analysis = await this.open(userId, parsed);
      const files = staged.map((file): MediaFile => ({
        analysisId: analysis.id, view: file.view, originalFilename: file.filename || file.field, fileType: file.fileType,
        sizeBytes: file.sizeBytes,
        objectKey: objectKeys.media(userId, analysis.sessionId, analysis.modelName,
          file.view === 'auto' ? safeBaseName(file.filename, file.view) : file.view, file.ext),
      }));
      try {
        for (const [i, file] of files.entries()) await this.deps.store.move(staged[i]!.pendingKey, file.objectKey);
        await this.commit(analysis, files);
      } catch (error) {
        // The rows were not written (one transaction): the moved files and the reservation must not stay either.
        await this.discard(analysis, files);
        throw error;
      }
      return { analysis, files, failures };
    } catch (error) {
      await this.discardStaged(upload);
      throw error;
    }
  }

  /** Deletes every pending object of an upload (those already moved are simply missing). */
  async discardStaged(upload: StagedUpload): Promise<void> {
    await Promise.allSettled(upload.outcomes.map((o) => (o.ok ? this.deps.store.delete(o.file.pendingKey) : undefined)));
  }

  private async storeFile(
    upload: StagedUpload,
    part: { field: string; filename: string; stream: Readable },
    signal?: AbortSignal,
  ): Promise<FileOutcome> {
    let rest: AsyncIterator<Buffer> | null = null;
    const filename = part.filename || part.field;
    const refuse = async (error: string): Promise<FileOutcome> => {
      await drain(part.stream, rest); // the parser reaches the next part only once this one is read to its end
      return { ok: false, field: part.field, filename, error };
    };
    const view = viewOf(part.field);
    if (!view) return refuse(`Unknown view field "${part.field}": use front, left, right, back (or file)`);
    if (upload.outcomes.some((o) => o.ok && o.file.view === view)) return refuse(`Only one file per view: "${part.field}" was sent twice`);
    // Decided again when the body ends, for a named view that comes after the file; refused here, it is not streamed.
    if (view === 'auto' && upload.outcomes.some((o) => isNamedView(o.ok ? o.file.field : o.field))) return refuse(FILE_BESIDE_VIEWS);

    const { head, rest: unread } = await readHead(part.stream, SNIFF_BYTES);
    rest = unread;
    const sniffed = sniffMedia(head);
    if (!sniffed) {
      return refuse('Unsupported file type: send a video (mp4, mov, avi, mkv, webm, m4v, wmv, flv) or an image (jpg, png, bmp, tiff, webp)');
    }
    const ext = `.${sniffed.format}`;
    const key = objectKeys.pendingUpload(upload.id, `${part.field}${ext}`);
    const check = createMediaCheck(sniffed.kind);
    try {
      const { size } = await this.deps.store.put(key, teeInto(head, unread, check), {
        contentType: CONTENT_TYPES[sniffed.format], maxBytes: this.deps.maxFileBytes, signal,
      });
      await check.result.catch(async (error: Error) => {
        await this.deps.store.delete(key);
        throw errors.invalidRequest(error.message);
      });
      return {
        ok: true,
        file: { field: part.field, view, pendingKey: key, ext, filename: part.filename, fileType: sniffed.kind, sizeBytes: size },
      };
    } catch (error) {
      check.abort();
      if (isAppError(error) && error.code !== 'internal' && error.code !== 'unavailable') {
        return refuse(error.code === 'payload_too_large'
          ? `File too large: the limit is ${Math.floor(this.deps.maxFileBytes / (1024 * 1024))} MiB`
          : error.message);
      }
      throw error;
    }
  }

  /**
   * A `file` of unknown view beside named views could be detected as one of them, and the two results would
   * overwrite each other: it is refused, whichever came first.
   */
  private async refuseFileBesideViews(upload: StagedUpload): Promise<void> {
    if (!upload.outcomes.some((o) => isNamedView(o.ok ? o.file.field : o.field))) return;
    for (const [i, outcome] of upload.outcomes.entries()) {
      if (!outcome.ok || outcome.file.view !== 'auto') continue;
      await this.deps.store.delete(outcome.file.pendingKey);
      upload.outcomes[i] = { ok: false, field: outcome.file.field, filename: outcome.file.filename || outcome.file.field, error: FILE_BESIDE_VIEWS };
    }
  }

  /** Records the files and queues the analysis once, in one transaction: both happen or neither. */
  private async commit(analysis: Analysis, files: MediaFile[]): Promise<void> {
    await this.deps.analyses.withTransaction(async (tx) => {
      await this.deps.analyses.addMediaFiles(tx, files);
      await this.deps.queue.send('analyse-session', { analysisId: analysis.id }, { tx: transactionExecutor(tx) });
    });
  }

  /** Removes what a failed request stored, and the reservation unless files from earlier requests remain. */
  async discard(analysis: Analysis, files: MediaFile[]): Promise<void> {
    await Promise.allSettled(files.map((f) => this.deps.store.delete(f.objectKey)));
    if ((await this.deps.analyses.mediaFiles(analysis.id)).length === 0) await this.deps.analyses.delete(analysis.id);
  }
}

/** Own keys only, so no inherited property (`toString`) passes for a view. */
function viewOf(field: string): UploadView | undefined {
  return Object.hasOwn(VIEW_FIELDS, field) ? VIEW_FIELDS[field] : undefined;
}

function isNamedView(field: string): boolean {
  const view = viewOf(field);
  return view !== undefined && view !== 'auto';
}

/**
 * A client's file name reduced to something safe in a key and in a download name: its last path part, without its
 * extension (the sniffed format gives that), `A-Z a-z 0-9 _ - .` only, no leading dot, at most MAX_BASE_NAME
 * characters; `fallback` when nothing is left.
 */
export function safeBaseName(filename: string, fallback: string): string {
  const base = filename.split(/[/\\]/).at(-1) ?? '';
  const dot = base.lastIndexOf('.');
  const stem = dot >= 0 ? base.slice(0, dot) : base;
  const safe = stem.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._-]+/, '').slice(0, MAX_BASE_NAME).replace(/[._-]+$/, '');
  return safe || fallback;
}

/** An optional height field (multipart text or JSON number); blank means not given. */
function parseHeightCm(value: string | number | undefined): number | undefined {
  const text = typeof value === 'number' ? String(value) : value?.trim();
  if (!text) return undefined;
  const height = Number(text);
  const { min, max } = SUBJECT_HEIGHT_RANGE_CM;
  if (!Number.isFinite(height) || height < min || height > max) {
    throw errors.invalidRequest(`Invalid height_cm: ${text}. Give the subject's height in centimetres, from ${min} to ${max}`);
  }
  return height;
}

/**
 * An optional person field (multipart text, or a JSON string or number), parsed like the CLI's `--person` and
 * `--person-at`: a person number, or a point on the person. Blank or `auto` means the automatic rule.
 */
function parsePerson(value: string | number | undefined): UserSubjectChoice | undefined {
  const text = typeof value === 'number' ? String(value) : value?.trim();
  if (!text) return undefined;
  const choice = parseSubjectChoice(text);
  if (!choice) {
    throw errors.invalidRequest(`Invalid person: ${text.slice(0, 64)}. Give a person number as \`postura analyze --list-people\` `
      + 'prints them (e.g. 2), or a point on the person in pixels of the original picture, X,Y or X,Y@T at T seconds (e.g. 640,360@2.5)');
  }
  return choice.kind === 'auto' ? undefined : choice;
}

async function readHead(stream: Readable, bytes: number): Promise<{ head: Buffer; rest: AsyncIterator<Buffer> }> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.length;
  }
  return { head: Buffer.concat(chunks), rest: iterator };
}

/**
 * Reads and drops the rest of a refused file. Once an async iterator has been taken from the stream, `resume()` does
 * nothing (its 'readable' listener wins), so the iterator itself is emptied; a body cut short ends it with an error,
 * which the request's own parsing reports.
 */
async function drain(stream: Readable, iterator: AsyncIterator<Buffer> | null): Promise<void> {
  if (!iterator) {
    stream.resume();
    return;
  }
  try {
    while (!(await iterator.next()).done);
  } catch {
    // The part ended early: nothing is left to read.
  }
}

/** The whole body (already-read head first) for the store, each chunk also fed to the checker. */
async function* teeInto(head: Buffer, rest: AsyncIterator<Buffer>, check: ReturnType<typeof createMediaCheck>): AsyncGenerator<Buffer> {
  if (head.length > 0) {
    await check.write(head);
    yield head;
  }
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    await check.write(next.value);
    yield next.value;
  }
  check.end();
}
