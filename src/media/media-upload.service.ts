import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AnalysesRepository, Analysis, MediaFile, UserSubjectChoice, View } from '../analysis/analyses.repository.ts';
import { errors, isAppError } from '../errors/app-error.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { JobQueue, SqlExecutor } from '../infra/queue/job-queue.ts';
import { SNIFF_BYTES, sniffMedia, type SniffedMedia } from '../pose/media-sniff.ts';
import { parseSubjectChoice } from '../pose/subject-tracks.ts';
import { SUBJECT_HEIGHT_RANGE_CM } from '../posture/index.ts';
import { createMediaCheck } from './media-check.ts';

/** Upload field → view; a lone `file` means "view unknown: detect it". */
export const VIEW_FIELDS: Readonly<Record<string, View>> = { front: 'front', left: 'left', right: 'right', back: 'back', file: 'auto' };
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
}

export type FileOutcome =
  | { ok: true; file: MediaFile }
  | { ok: false; field: string; filename: string; error: string };

export interface MediaUploadDeps {
  analyses: AnalysesRepository;
  store: ObjectStore;
  queue: JobQueue;
  models: () => readonly string[];
  profiles: () => readonly string[];
  maxFileBytes: number;
}

/**
 * A media session upload in three steps: open (reserve the session id), store each file as it streams in
 * (sniffed, size-limited, checked), then commit (rows and the analysis job in one transaction) or discard
 * (every stored object and the reservation), so a failed request leaves nothing behind.
 */
export class MediaUploadService {
  constructor(private readonly deps: MediaUploadDeps) {}

  parseFields(fields: {
    session_id?: string; model?: string; profile?: string; height_cm?: string | number; person?: string | number;
  }): SessionFields {
    const sessionId = fields.session_id?.trim();
    if (!sessionId) throw errors.missingFields('Missing session_id');
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
      sessionId, model, profile,
      ...(subjectHeightCm === undefined ? {} : { subjectHeightCm }),
      ...(subjectChoice === undefined ? {} : { subjectChoice }),
    };
  }

  /** Reserves the session id for this user; a taken one is a conflict that lists the files already there. */
  async open(userId: string, fields: SessionFields): Promise<Analysis> {
    const analysis = await this.deps.analyses.reserve({
      id: randomUUID(), userId, sessionId: fields.sessionId, modelName: fields.model, profile: fields.profile,
      subjectHeightCm: fields.subjectHeightCm ?? null, subjectChoice: fields.subjectChoice ?? null,
    });
    if (analysis) return analysis;
    const existing = await this.deps.analyses.findBySession(userId, fields.sessionId);
    const files = existing ? await this.deps.analyses.mediaFiles(existing.id) : [];
    throw errors.conflict('session_id already exists', {
      message: `Session ${fields.sessionId} already has an analysis; delete it first or use another session_id`,
      existing_files: files.map((f) => f.objectKey.split('/').at(-1)),
    });
  }

  /** Streams one file to the store. Problems with this file are its outcome, not a failure of the request. */
  async storeFile(
    analysis: Analysis,
    part: { field: string; filename: string; stream: Readable },
    taken: ReadonlySet<View>,
    signal?: AbortSignal,
  ): Promise<FileOutcome> {
    let rest: AsyncIterator<Buffer> | null = null;
    const refuse = async (error: string): Promise<FileOutcome> => {
      await drain(part.stream, rest); // the parser reaches the next part only once this one is read to its end
      return { ok: false, field: part.field, filename: part.filename, error };
    };
    const view = VIEW_FIELDS[part.field];
    if (!view) return refuse(`Unknown view field "${part.field}": use front, left, right, back (or file)`);
    if (taken.has(view)) return refuse(`Only one file per view: "${part.field}" was sent twice`);

    const { head, rest: unread } = await readHead(part.stream, SNIFF_BYTES);
    rest = unread;
    const sniffed = sniffMedia(head);
    if (!sniffed) {
      return refuse('Unsupported file type: send a video (mp4, mov, avi, mkv, webm, m4v, wmv, flv) or an image (jpg, png, bmp, tiff, webp)');
    }
    const key = objectKeys.media(analysis.userId, analysis.sessionId, analysis.modelName, view, `.${sniffed.format}`);
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
        file: { analysisId: analysis.id, view, objectKey: key, originalFilename: part.filename, fileType: sniffed.kind, sizeBytes: size },
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

  /** Records the files and queues the analysis once, in one transaction: both happen or neither. */
  async commit(analysis: Analysis, files: MediaFile[]): Promise<void> {
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

/** Raw SQL on a Kysely transaction, for enqueueing a job inside it. */
export function transactionExecutor(tx: { executeQuery: (q: never) => Promise<{ rows: unknown[] }> }): SqlExecutor {
  return {
    executeSql: async (text, values = []) => {
      const { CompiledQuery } = await import('kysely');
      return tx.executeQuery(CompiledQuery.raw(text, values) as never);
    },
  };
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
