import type {} from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AnalysesService } from '../analysis/analyses.service.ts';
import { errors, isAppError } from '../errors/app-error.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import { ConcurrencyGate } from '../http/concurrency-gate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { MediaUploadService } from './media-upload.service.ts';

export interface MediaRoutesDeps {
  uploads: MediaUploadService;
  analyses: AnalysesService;
  store: ObjectStore;
  guards: AuthGuards;
  signedUrlTtlSeconds: number;
  /** Uploads streaming at once, per user and in all (config.uploads.concurrencyPerUser and concurrencyTotal). */
  concurrency: { perUser: number; total: number };
}

/** What a refused upload is told to wait: uploads take seconds to minutes, so a shorter hint only adds retries. */
const UPLOAD_BUSY_RETRY_SECONDS = 5;

const tags = ['studio: media'];
export const UploadedFile = Type.Object({
  file_url: Type.String(), filename: Type.String(), original_filename: Type.String(), model: Type.String(),
  view: Type.String(), file_type: Type.String(),
});
/** The answer to an upload, multipart or finalized direct upload alike. */
export const UploadResponse = Type.Object({
  message: Type.String(), session_id: Type.String(), model: Type.String(), analysis_id: Type.String(),
  uploaded_files: Type.Record(Type.String(), UploadedFile), views_uploaded: Type.Array(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), filename: Type.String(), error: Type.String() }))),
});

/** Studio media routes: the streamed multi-view upload and the deletes of SPEC section 2. */
export async function mediaRoutes(fastify: FastifyInstance, deps: MediaRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { uploads, guards } = deps;
  const inFlight = new ConcurrencyGate({ perKey: deps.concurrency.perUser, total: deps.concurrency.total });

  app.post('/api/video/upload', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Upload 1 to 4 views (front, left, right, back; or one `file` of unknown view) as multipart',
      description: 'Fields session_id (required), model (default cx), profile (default stance), height_cm (optional: the '
        + "subject's height in cm, 50 to 250, the scale of every cm value; estimated from body proportions when absent) "
        + 'and person (optional: who to analyse in every view when several people are in it, either a person number as '
        + '`postura analyze --list-people` prints them, e.g. "2", or a point on the person in pixels of the original '
        + 'picture, "X,Y" or "X,Y@T" at T seconds, e.g. "640,360@2.5"; default: the person visible longest, then the '
        + 'largest), and about the person assessed (optional, separate from the account): subject_name (at most 100 '
        + 'characters), subject_birth_date (YYYY-MM-DD) or subject_age (whole years, 1 to 120), subject_notes (at most 1000 '
        + "characters). Fields and files may come in any order. A lone `file` is stored as `{model}_{its file name}{ext}`, "
        + 'the name reduced to letters, digits, "_", "-" and "."; it cannot be combined with named views.',
      consumes: ['multipart/form-data'],
      response: { 201: UploadResponse, 207: UploadResponse, ...studioErrors(400, 401, 409, 413, 415, 429) },
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) throw errors.unsupportedMediaType('Send the files as multipart/form-data');
    const user = request.auth!.user;
    // Taken before the first byte of the body is read: each upload in flight holds a store stream and an ffprobe.
    const release = inFlight.tryAcquire(user.id);
    if (!release) {
      throw errors.rateLimited(UPLOAD_BUSY_RETRY_SECONDS, 'Too many uploads in progress, try again when one has finished');
    }
    try {
      return await receiveUpload(request, reply, user.id);
    } finally {
      release();
    }
  });

  async function receiveUpload(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<FastifyReply> {
    const fields: Record<string, string> = {};
    const upload = uploads.stage();
    const aborted = new AbortController();
    request.raw.once('close', () => {
      if (!request.raw.complete) aborted.abort();
    });
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          if (typeof part.value === 'string') fields[part.fieldname] = part.value;
          continue;
        }
        await uploads.stageFile(upload, { field: part.fieldname, filename: part.filename, stream: part.file }, aborted.signal);
      }
    } catch (error) {
      await uploads.discardStaged(upload);
      throw isMalformedMultipart(error) ? errors.invalidRequest(`Malformed multipart body: ${(error as Error).message}`) : error;
    }
    const { analysis, files: stored, failures } = await uploads.commitStaged(userId, upload, fields);
    const uploadedFiles: Record<string, Static<typeof UploadedFile>> = {};
    for (const file of stored) {
      const filename = file.objectKey.split('/').at(-1)!;
      uploadedFiles[file.view] = {
        file_url: await deps.store.signedGetUrl(file.objectKey, { expiresInSeconds: deps.signedUrlTtlSeconds, filename }),
        filename, original_filename: file.originalFilename, model: analysis.modelName, view: file.view, file_type: file.fileType,
      };
    }
    const body = {
      session_id: analysis.sessionId, model: analysis.modelName, analysis_id: analysis.id,
      uploaded_files: uploadedFiles, views_uploaded: stored.map((f) => f.view),
    };
    if (failures.length > 0) {
      return reply.status(207).send({ message: `Partial upload success. ${stored.length} files uploaded.`, ...body, errors: failures });
    }
    return reply.status(201).send({
      message: `All files uploaded successfully. ${stored.length} files uploaded. Analysis will begin automatically.`, ...body,
    });
  }

  const DeleteBody = Type.Object({
    session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    filename: Type.Optional(Type.String({ description: 'Its stored name (`cx_front.mp4`); without session_id, it must be unique among your sessions' })),
  });
  const DeleteResponse = Type.Object({ message: Type.String(), session_id: Type.String(), deleted_files: Type.Array(Type.String()) });

  app.post('/api/video/delete', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: "Delete a session's media (and its analysis), or one file of it", body: DeleteBody,
      description: 'JSON {session_id} deletes the whole session; {session_id, filename} one file of it; {filename} alone '
        + 'the file of that stored name, 409 when several of your sessions have one (then add session_id).',
      response: { 200: DeleteResponse, ...studioErrors(400, 401, 404, 409) },
    },
  }, async (request) => {
    const userId = request.auth!.user.id;
    const { session_id: sessionId, filename } = request.body;
    if (sessionId === undefined) {
      if (!filename) {
        throw errors.missingFields('Send session_id to delete a whole session, filename to delete one file, or both');
      }
      const found = await deps.analyses.deleteFileByStoredName(userId, filename);
      return { message: 'File deleted successfully', session_id: found.sessionId, deleted_files: found.deleted };
    }
    const deleted = filename
      ? await deps.analyses.deleteFile(userId, sessionId, filename)
      : await deps.analyses.deleteBySessionId(userId, sessionId);
    return { message: filename ? 'File deleted successfully' : 'Session deleted successfully', session_id: sessionId, deleted_files: deleted };
  });

  app.post('/api/video/delete/multiview', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Delete every view of a session, its analysis and its results', body: Type.Object({ session_id: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: DeleteResponse, ...studioErrors(400, 401, 404) },
    },
  }, async (request) => {
    const deleted = await deps.analyses.deleteBySessionId(request.auth!.user.id, request.body.session_id);
    return { message: 'Multi-view session deleted successfully', session_id: request.body.session_id, deleted_files: deleted };
  });
}

/**
 * The multipart parser's own errors (a missing boundary, a body cut short): plain Errors without a status, so
 * they are recognised by their messages. Anything else thrown while reading parts stays an internal error.
 */
const MULTIPART_SYNTAX = /^(Multipart: Boundary not found|Unexpected end of multipart data|Part terminated early due to unexpected end of multipart data|Unsupported Content-Type\.|Missing Content-Type-header\.)$/;

function isMalformedMultipart(error: unknown): boolean {
  return error instanceof Error && !isAppError(error) && MULTIPART_SYNTAX.test(error.message);
}
