import pino from 'pino';
import { AnalysisEvents } from '../analysis/analysis-events.ts';
import { AnalysisRunner } from '../analysis/analysis-runner.ts';
import { createAnalysesRepository } from '../analysis/analyses.repository.ts';
import { startAnalysisWorkers } from '../analysis/analysis.jobs.ts';
import { resolveJwtSecret } from '../auth/jwt-secret.ts';
import type { Config } from '../config/config.ts';
import { openAdapters } from '../infra/adapters.ts';
import { createEstimator } from './inference.ts';
import { createUsersRepository } from '../users/users.repository.ts';

/**
 * `postura worker`: runs analyses and nothing else (no HTTP), for scaling inference apart from the API. It takes
 * jobs from the shared queue, so any number of workers and API processes can run against one database.
 */
export async function runWorker(config: Config): Promise<number> {
  const log = pino({ level: config.logLevel });
  const jwtSecret = await resolveJwtSecret(config);
  const adapters = await openAdapters(config, jwtSecret);
  const estimator = createEstimator(config, jwtSecret, adapters.database);
  const runner = new AnalysisRunner({
    analyses: createAnalysesRepository(adapters.database.db),
    users: createUsersRepository(adapters.database.db),
    store: adapters.store,
    estimator,
    events: new AnalysisEvents(adapters.pubsub, (error) => log.warn({ err: error }, 'analysis event not published')),
    frameStep: config.jobs.frameStep,
    log,
  });
  await startAnalysisWorkers(adapters.queue, runner, Math.max(1, config.jobs.concurrency));
  log.info({ concurrency: Math.max(1, config.jobs.concurrency) }, 'analysis worker started');

  return new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      log.info({ signal }, 'worker stopping: finishing the analyses in hand');
      await adapters.queue.stop();
      await estimator.close();
      await adapters.close();
      resolve(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
