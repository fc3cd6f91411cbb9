import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import type { AuthService } from './auth/auth.service.ts';
import type { AuthGuards } from './http/authenticate.ts';
import type { SocketGuard } from './http/guarded-socket.ts';
import type { ReadinessChecks } from './http/health.routes.ts';
import type { DatabaseHandle } from './infra/db/database.ts';
import type { ObjectStore } from './infra/object-store/object-store.ts';
import { signedFilesRoutes } from './infra/object-store/signed-files.routes.ts';
import type { UrlSigner } from './infra/object-store/url-signer.ts';
import type { PubSub } from './infra/pubsub/pubsub.ts';
import type { JobQueue } from './infra/queue/job-queue.ts';
import type { RateLimiter } from './infra/rate-limit/rate-limiter.ts';
import { directUploadRoutes } from './media/direct-upload.routes.ts';
import { DirectUploadService } from './media/direct-upload.service.ts';
import { mediaRoutes } from './media/media.routes.ts';
import { MediaUploadService } from './media/media-upload.service.ts';
import { storedMediaChecker } from './media/stored-media-check.ts';
import type { PoseEstimator } from './pose/pose-estimator.ts';
import { listProfiles } from './posture/index.ts';
import { createUsersRepository } from './users/users.repository.ts';
import { UserDirectory, usersRoutes } from './users/users.routes.ts';
import { createAnalysesRepository } from './analysis/analyses.repository.ts';
import { AnalysesService } from './analysis/analyses.service.ts';
import { AnalysisCancels } from './analysis/analysis-cancels.ts';
import { AnalysisEvents } from './analysis/analysis-events.ts';
import { ANALYSIS_SWEEP_INTERVAL_MS, AnalysisSweeper } from './analysis/analysis-sweeper.ts';
import type { AnalysisRunner, AnalysisRunnerDeps } from './analysis/analysis-runner.ts';
import { analysisRoutes } from './analysis/analysis.routes.ts';
import { analysisSocketRoutes } from './analysis/analysis-socket.routes.ts';
import { startAnalysisWorkers } from './analysis/analysis.jobs.ts';

export interface StudioDeps {
  config: Config;
  database: DatabaseHandle;
  store: ObjectStore;
  /** The disk store's signer, whose URLs this API serves under /files; null for S3. */
  signer: UrlSigner | null;
  queue: JobQueue;
  pubsub: PubSub;
  /** Counts analysis retries (per analysis and per owner); absent: retries are not bounded. */
  rateLimiter?: RateLimiter;
  auth: AuthService;
  guards: AuthGuards;
  sockets: SocketGuard;
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
  const cancels = new AnalysisCancels(deps.pubsub, (error) => app.log.warn({ err: error }, 'analysis cancel not published'));
  deps.checks.objectStore = () => store.ping();

  // File size is enforced per file while streaming to the store (a per-file error, not a failed request), so the
  // parser's own limit stays out of the way.
  await app.register(fastifyMultipart, {
    limits: { files: 4, fields: 10, fieldSize: 1024, parts: 16, fileSize: Number.MAX_SAFE_INTEGER, headerPairs: 100 },
  });
  const uploads = new MediaUploadService({
    analyses, store, queue, models: () => deps.models, profiles: listProfiles, maxFileBytes: config.uploads.maxFileBytes,
  });
  const directUploads = new DirectUploadService({
    uploads, analyses, store, queue, maxFileBytes: config.uploads.maxFileBytes,
    signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds, log: app.log,
  });
  // The only signed PUTs are direct uploads: each is single use and dies once its session is finalized or deleted.
  if (deps.signer) {
    await app.register(signedFilesRoutes, { store, signer: deps.signer, maxUploadBytes: config.uploads.maxFileBytes, putGate: directUploads });
  }
  sweepAbandonedUploads(app, uploads);
  sweepStaleSessions(app, new AnalysisSweeper({ analyses, store, signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds }));
  const service = new AnalysesService({
    analyses, store, queue, models: deps.models, signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds,
    cancels, rateLimiter: deps.rateLimiter,
    retryLimits: { perAnalysisPerDay: config.jobs.retriesPerAnalysisPerDay, perUserPerHour: config.jobs.retriesPerUserPerHour },
  });
  await app.register(mediaRoutes, {
    uploads, analyses: service, store, guards: deps.guards, signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds,
    concurrency: { perUser: config.uploads.concurrencyPerUser, total: config.uploads.concurrencyTotal },
  });
  await app.register(directUploadRoutes, {
    directUploads, store, guards: deps.guards, signedUrlTtlSeconds: config.uploads.signedUrlTtlSeconds,
    webhookSecret: config.uploads.webhookSecret, bucket: config.storage.driver === 's3' ? config.storage.bucket : null,
    limiter: deps.rateLimiter,
    webhookFailures: { limit: config.uploads.webhookFailedAuthPerIp, windowMs: config.auth.attemptWindowSeconds * 1000 },
  });
  const directory = new UserDirectory(users);
  await app.register(analysisRoutes, {
    service, users: directory, guards: deps.guards, listShape: config.studio.analysisListShape,
  });
  await app.register(usersRoutes, { directory, statistics: service, guards: deps.guards });
  await app.register(analysisSocketRoutes, { auth: deps.auth, pubsub: deps.pubsub, sockets: deps.sockets });

  if (deps.estimator && config.jobs.concurrency > 0) {
    const runner = lazyRunner({
      analyses, users, store, estimator: deps.estimator, events, frameStep: config.jobs.frameStep, analysisFps: config.jobs.analysisFps, log: app.log,
      maxFrames: config.jobs.maxFrames, heartbeatSeconds: config.jobs.heartbeatSeconds, cancels,
      checkMedia: storedMediaChecker(store, config.uploads.maxFileBytes),
    });
    await cancels.listen();
    app.addHook('onClose', () => cancels.close());
    await startAnalysisWorkers(queue, runner, config.jobs.concurrency);
  }
}

/**
 * The runner loads with the first job it is given, not at start: its module brings the chart, PDF and overlay code
 * (echarts, pdfkit: ~60 MB resident) that a server nobody has uploaded to never needs.
 */
function lazyRunner(deps: AnalysisRunnerDeps): AnalysisRunner {
  let loading: Promise<AnalysisRunner> | undefined;
  const runner = () => (loading ??= import('./analysis/analysis-runner.ts').then(
    ({ AnalysisRunner }) => new AnalysisRunner(deps),
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  ));
  const lazy: Pick<AnalysisRunner, 'run' | 'bury'> = {
    run: async (job) => (await runner()).run(job),
    bury: async (job) => (await runner()).bury(job),
  };
  // startAnalysisWorkers uses run and bury only.
  return lazy as AnalysisRunner;
}

/** Uploads still pending this long after they started belong to a crashed process (no request lasts a day). */
const ABANDONED_UPLOAD_MS = 24 * 3600 * 1000;

/** At start and then hourly, deletes what crashed uploads left under `uploads-pending/`; never delays start-up. */
function sweepAbandonedUploads(app: FastifyInstance, uploads: MediaUploadService): void {
  const sweep = () => {
    uploads.sweepAbandoned(ABANDONED_UPLOAD_MS).then(
      (deleted) => { if (deleted > 0) app.log.info({ deleted }, 'abandoned pending uploads deleted'); },
      (error: unknown) => app.log.warn({ err: error }, 'sweeping abandoned uploads failed'),
    );
  };
  app.addHook('onReady', async () => sweep());
  const timer = setInterval(sweep, 3600 * 1000).unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

/**
 * At start and then hourly: direct uploads presigned and never finalized (an hour after their URLs expired) and
 * objects under sessions no analysis holds (analysis-sweeper.ts); never delays start-up.
 */
function sweepStaleSessions(app: FastifyInstance, sweeper: AnalysisSweeper): void {
  const sweep = () => {
    sweeper.sweep().then(
      (report) => {
        if (report.abandonedUploads > 0 || report.orphanSessions > 0) app.log.info(report, 'abandoned direct uploads and orphan sessions deleted');
      },
      (error: unknown) => app.log.warn({ err: error }, 'sweeping abandoned direct uploads and orphan sessions failed'),
    );
  };
  app.addHook('onReady', async () => sweep());
  const timer = setInterval(sweep, ANALYSIS_SWEEP_INTERVAL_MS).unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
