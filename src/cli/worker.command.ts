import pino from 'pino';
import { AnalysisCancels } from '../analysis/analysis-cancels.ts';
import { AnalysisEvents } from '../analysis/analysis-events.ts';
import { AnalysisRunner } from '../analysis/analysis-runner.ts';
import { createAnalysesRepository } from '../analysis/analyses.repository.ts';
import { startAnalysisWorkers } from '../analysis/analysis.jobs.ts';
import { resolveJwtSecret } from '../auth/jwt-secret.ts';
import type { Config } from '../config/config.ts';
import { openAdapters } from '../infra/adapters.ts';
import { createEstimator } from './inference.ts';
import { createUsersRepository } from '../users/users.repository.ts';
import { storedMediaChecker } from '../media/stored-media-check.ts';

/** How long a stop may take (SIGTERM to exit); analyses in hand stop within about a second of it. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * `postura worker`: runs analyses and nothing else (no HTTP), for scaling inference apart from the API. It takes
 * jobs from the shared queue, so any number of workers and API processes can run against one database.
 */
export async function runWorker(config: Config): Promise<number> {
  const log = pino({ level: config.logLevel });
  const jwtSecret = await resolveJwtSecret(config);
  const adapters = await openAdapters(config, jwtSecret);
  const estimator = createEstimator(config, jwtSecret, adapters.database);
  const cancels = new AnalysisCancels(adapters.pubsub, (error) => log.warn({ err: error }, 'analysis cancel not received'));
  await cancels.listen();
  const runner = new AnalysisRunner({
    analyses: createAnalysesRepository(adapters.database.db),
    users: createUsersRepository(adapters.database.db),
    store: adapters.store,
    estimator,
    events: new AnalysisEvents(adapters.pubsub, (error) => log.warn({ err: error }, 'analysis event not published')),
    frameStep: config.jobs.frameStep,
    analysisFps: config.jobs.analysisFps,
    maxFrames: config.jobs.maxFrames,
    heartbeatSeconds: config.jobs.heartbeatSeconds,
    checkMedia: storedMediaChecker(adapters.store, config.uploads.maxFileBytes),
    cancels,
    log,
  });
  await startAnalysisWorkers(adapters.queue, runner, Math.max(1, config.jobs.concurrency));
  log.info({ concurrency: Math.max(1, config.jobs.concurrency) }, 'analysis worker started');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      // The analyses in hand are told to stop (their jobs run again later, elsewhere); past the grace period the
      // process exits anyway rather than hang on a stuck call.
      log.info({ signal }, 'worker stopping: analyses in hand are stopped and offered again');
      const force = setTimeout(() => {
        log.error('shutdown took too long; exiting');
        resolve(1);
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      try {
        await adapters.queue.stop();
        await cancels.close();
        await estimator.close();
        await adapters.close();
        resolve(0);
      } catch (error) {
        log.error({ err: error }, 'error during shutdown');
        resolve(1);
      } finally {
        clearTimeout(force);
      }
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
