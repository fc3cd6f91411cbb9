import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { errors } from '../errors/app-error.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { RateLimiter, RateLimitOptions } from '../infra/rate-limit/rate-limiter.ts';
import type { DirectUploadService, FinalizeResult } from './direct-upload.service.ts';
import { hasWebhookSecret, parseBucketNotification } from './minio-webhook.ts';
import { UploadedFile, UploadResponse } from './media.routes.ts';

export interface DirectUploadRoutesDeps {
  directUploads: DirectUploadService;
  store: ObjectStore;
  guards: AuthGuards;
  signedUrlTtlSeconds: number;
  /** `uploads.webhookSecret`; null refuses every notification. */
  webhookSecret: string | null;
  /** The S3 bucket this service stores in (records of other buckets are skipped); null for the disk store. */
  bucket: string | null;
  /** Counts failed webhook authentications per client IP; buildApp always passes one (absent: not limited). */
  limiter: RateLimiter | undefined;
  /** Failed webhook authentications per client IP (`uploads.webhookFailedAuthPerIp` per the auth attempt window). */
  webhookFailures: RateLimitOptions;
}

const tags = ['studio: media'];
const FINALIZE_URL = '/api/video/upload/finalize';

const DeclaredView = Type.Object({
  // No control characters: a NUL passed presign, then the database refused the name at every finalize.
  filename: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001F\\u007F]+$', description: 'Its extension sets the key: mp4, mov, avi, mkv, webm, m4v, wmv, flv, jpg, jpeg, png, bmp, tiff, webp' }),
  content_type: Type.Optional(Type.String({ maxLength: 100, description: 'The Content-Type the PUT will carry (image/* or video/*); default from the extension' })),
  size: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes; over the upload limit is refused at once' })),
}, { additionalProperties: false });
const PresignBody = Type.Object({
  session_id: Type.Optional(Type.String({ maxLength: 200 })),
  model: Type.Optional(Type.String({ maxLength: 64 })),
  profile: Type.Optional(Type.String({ maxLength: 64 })),
  height_cm: Type.Optional(Type.Number({ description: "The subject's height in cm (50 to 250): the scale of every cm value; estimated when absent" })),
  person: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()], {
    description: 'Who to analyse in every view: a person number as `postura analyze --list-people` prints them (2 or "2"), '
      + 'or a point on the person in pixels of the original picture, "X,Y" or "X,Y@T" at T seconds; default: the automatic rule',
  })),
  subject_name: Type.Optional(Type.String({ description: 'The person assessed, at most 100 characters (not the account holder)' })),
  subject_birth_date: Type.Optional(Type.String({ description: 'Their date of birth, YYYY-MM-DD; or subject_age instead' })),
  subject_age: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 32 })], { description: 'Their age in whole years, 1 to 120' })),
  subject_notes: Type.Optional(Type.String({ description: 'Notes about them for the report, at most 1000 characters' })),
  views: Type.Record(Type.String(), DeclaredView, { description: 'front, left, right, back (or file: view unknown)' }),
});
const PresignResponse = Type.Object({
  message: Type.String(), session_id: Type.String(), analysis_id: Type.String(), model: Type.String(), profile: Type.String(),
  expires_in: Type.Integer(), finalize_url: Type.String(),
  uploads: Type.Record(Type.String(), Type.Object({
    url: Type.String(), method: Type.Literal('PUT'), key: Type.String(),
    headers: Type.Object({ 'Content-Type': Type.String() }),
  })),
});
// The multipart upload's answer, so a client handles both ways of uploading alike.
const FinalizeResponse = UploadResponse;
const WebhookResponse = Type.Object({
  processed: Type.Integer({ description: 'Records that matched a view a session waits for' }),
  queued: Type.Array(Type.Object({ session_id: Type.String(), analysis_id: Type.String() })),
  skipped: Type.Array(Type.Object({ key: Type.String(), reason: Type.String() })),
});

/** Direct upload of big files (SPEC section 2): presigned PUTs, then finalize by the client or by the bucket. */
export async function directUploadRoutes(fastify: FastifyInstance, deps: DirectUploadRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { directUploads, guards, limiter } = deps;

  app.post('/api/video/upload/presign', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Reserve a session and get a presigned PUT URL per view, for files too big for one request',
      description: `PUT each file to its URL with the given headers, then call ${FINALIZE_URL} (or let the bucket webhook do it).`,
      body: PresignBody,
      response: { 201: PresignResponse, ...studioErrors(400, 401, 409) },
    },
  }, async (request, reply) => {
    const { analysis, expiresIn, uploads } = await directUploads.presign(request.auth!.user.id, request.body);
    const byField: Static<typeof PresignResponse>['uploads'] = {};
    for (const u of uploads) byField[u.field] = { url: u.url, method: 'PUT', key: u.key, headers: { 'Content-Type': u.contentType } };
    return reply.status(201).send({
      message: `Upload URLs ready for ${uploads.length} views. PUT each file, then finalize.`,
      session_id: analysis.sessionId, analysis_id: analysis.id, model: analysis.modelName, profile: analysis.profile,
      expires_in: expiresIn, finalize_url: FINALIZE_URL, uploads: byField,
    });
  });

  app.post(FINALIZE_URL, {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Check the directly uploaded views of a session and queue its analysis',
      description: 'Missing or unreadable views are reported (and bad objects deleted); no acceptable view: 400 and the session is freed.',
      body: Type.Object({ session_id: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 201: FinalizeResponse, 207: FinalizeResponse, ...studioErrors(400, 401, 404, 409) },
    },
  }, async (request, reply) => {
    const result = await directUploads.finalizeSession(request.auth!.user.id, request.body.session_id);
    const body = await finalizeBody(result, deps);
    if (result.failures.length > 0) {
      return reply.status(207).send({ message: `Partial upload success. ${result.stored.length} files uploaded.`, ...body, errors: result.failures });
    }
    return reply.status(201).send({
      message: `All files uploaded successfully. ${result.stored.length} files uploaded. Analysis will begin automatically.`, ...body,
    });
  });

  app.post('/api/minio/webhook', {
    // Before the body is even parsed: without the shared secret nothing about the request matters. Only failures
    // are charged, so a busy bucket never runs out; an IP past its failures is refused before any comparison.
    onRequest: async (request) => {
      const budget = `webhook:failed-auth:ip:${request.ip}`;
      const decision = await limiter?.peek(budget, deps.webhookFailures);
      if (decision && !decision.allowed) {
        throw errors.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)), 'Too many failed webhook authentications, try again later');
      }
      if (!hasWebhookSecret(request.headers, deps.webhookSecret)) {
        await limiter?.consume(budget, deps.webhookFailures);
        throw errors.unauthenticated('Missing or invalid webhook secret');
      }
    },
    schema: {
      tags, summary: 'S3/MinIO bucket notification: finalizes direct uploads whose every view has arrived',
      description: 'Needs the shared secret (MINIO_WEBHOOK_SECRET) as `Authorization: Bearer <secret>` or `X-Webhook-Secret`.',
      body: Type.Object({ Records: Type.Optional(Type.Array(Type.Unknown())) }, { additionalProperties: true }),
      response: { 200: WebhookResponse, ...studioErrors(400, 401, 429) },
    },
  }, async (request) => {
    const { created, skipped } = parseBucketNotification(request.body);
    const report = await directUploads.handleCreatedObjects(created, deps.bucket);
    return { ...report, skipped: [...skipped, ...report.skipped] };
  });
}

async function finalizeBody({ analysis, stored }: FinalizeResult, deps: DirectUploadRoutesDeps) {
  const uploadedFiles: Record<string, Static<typeof UploadedFile>> = {};
  for (const file of stored) {
    const filename = file.objectKey.split('/').at(-1)!;
    uploadedFiles[file.view] = {
      file_url: await deps.store.signedGetUrl(file.objectKey, { expiresInSeconds: deps.signedUrlTtlSeconds, filename }),
      filename, original_filename: file.originalFilename, model: analysis.modelName, view: file.view, file_type: file.fileType,
    };
  }
  return {
    session_id: analysis.sessionId, model: analysis.modelName, analysis_id: analysis.id,
    uploaded_files: uploadedFiles, views_uploaded: stored.map((f) => f.view),
  };
}
