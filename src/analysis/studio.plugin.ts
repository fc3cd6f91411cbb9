import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';
import type { AuthService } from '../auth/auth.service.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import type { ReadinessChecks } from '../http/health.routes.ts';
import type { DatabaseHandle } from '../infra/db/database.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import { signedFilesRoutes } from '../infra/object-store/signed-files.routes.ts';
import type { UrlSigner } from '../infra/object-store/url-signer.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import type { JobQueue } from '../infra/queue/job-queue.ts';
import { directUploadRoutes } from '../media/direct-upload.routes.ts';
import { DirectUploadService } from '../media/direct-upload.service.ts';
import { mediaRoutes } from '../media/media.routes.ts';
import { MediaSessionsService } from '../media/media-sessions.service.ts';
import { MediaUploadService } from '../media/media-upload.service.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { listProfiles } from '../posture/index.ts';
import { createUsersRepository } from '../users/users.repository.ts';
import { createAnalysesRepository } from './analyses.repository.ts';
import { AnalysisEvents } from './analysis-events.ts';
import { AnalysisRunner } from './analysis-runner.ts';
import { analysisRoutes } from './analysis.routes.ts';
import { analysisSocketRoutes } from './analysis-socket.routes.ts';
import { startAnalysisWorkers } from './analysis.jobs.ts';

export interface StudioDeps {
  config: Config;
  database: DatabaseHandle;
  store: ObjectStore;
  /** The disk store's signer, whose URLs this API serves under /files; null for S3. */
  signer: UrlSigner | null;
  queue: JobQueue;
  pubsub: PubSub;
  auth: AuthService;
  guards: AuthGuards;
  checks: ReadinessChecks;
  /** Public model names the studio accepts. */
  models: readonly string[];
  /** Present when this process runs analyses (in-process inference); an API-only process leaves it out. */
  estimator?: PoseEstimator;
}

/** The studio family's media pipeline: uploads, signed files, analyses and their workers, the progress socket. */
export async function studioPipeline(app: FastifyInstance, deps: StudioDeps): Promise<void> {
  const { config, store, queue } = deps;
  const analyses = createAnalysesRepository(deps.database.db);
  const users = createUsersRepository(deps.database.db);
  const events = new AnalysisEvents(deps.pubsub, (error) => app.log.warn({ err: error }, 'analysis event not published'));
  deps.checks.objectStore = () => store.ping();

  // File size is enforced per file while streaming to the store (a per-file error, not a failed request), so the
  // parser's own limit stays out of the way.
  await app.register(fastifyMultipart, {
    limits: { files: 4, fields: 10, fieldSize: 1024, parts: 16, fileSize: Number.MAX_SAFE_INTEGER, headerPairs: 100 },
  });
  if (deps.signer) await app.register(signedFilesRoutes, { store, signer: deps.signer, maxUploadBytes: config.uploads.maxFileBytes });
  const uploads = new MediaUploadService({
    analyses, store, queue, models: () => deps.models, profiles: listProfiles, maxFileBytes: config.uploads.maxFileBytes,
  });
  const sessions = new MediaSessionsService({ analyses, store });
  await app.register(mediaRoutes, {
    uploads, sessions, store, guards: deps.guards, signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds,
  });
  const directUploads = new DirectUploadService({
    uploads, analyses, store, queue, maxFileBytes: config.uploads.maxFileBytes,
    signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds, log: app.log,
  });
  await app.register(directUploadRoutes, {
    directUploads, store, guards: deps.guards, signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds,
    webhookSecret: config.uploads.webhookSecret, bucket: config.storage.driver === 's3' ? config.storage.bucket : null,
  });
  await app.register(analysisRoutes, {
    analyses, users, sessions, store, queue, guards: deps.guards, models: deps.models,
    signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds,
  });
  await app.register(analysisSocketRoutes, { auth: deps.auth, pubsub: deps.pubsub });

  if (deps.estimator && config.jobs.concurrency > 0) {
    const runner = new AnalysisRunner({
      analyses, users, store, estimator: deps.estimator, events, frameStep: config.jobs.frameStep, log: app.log,
    });
    await startAnalysisWorkers(queue, runner, config.jobs.concurrency);
  }
}
