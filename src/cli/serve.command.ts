import { buildApp } from '../app.ts';
import { resolveJwtSecret } from '../auth/jwt-secret.ts';
import type { Config } from '../config/config.ts';
import { openAdapters } from '../infra/adapters.ts';
import { createEstimator } from './inference.ts';
import { ffmpegChoice } from '../pose/ffmpeg-path.ts';

const SHUTDOWN_GRACE_MS = 10_000;

/** Runs everything in one process: API now; queue workers and inference join as they arrive. */
export async function runServe(config: Config): Promise<number> {
  const jwtSecret = await resolveJwtSecret(config);
  const adapters = await openAdapters(config, jwtSecret);
  // Inference threads in this process (one per core, started on the first analysis and stopped after POSE_IDLE_SECONDS
  // without one), or remote model servers for the models configured so.
  const estimator = config.jobs.concurrency > 0 ? createEstimator(config, jwtSecret, adapters.database) : undefined;
  const app = await buildApp({ config, jwtSecret, ...adapters, estimator });
  app.log.info({ ffmpeg: ffmpegChoice() }, 'ffmpeg chosen');
  app.addHook('onClose', async () => {
    await adapters.queue.stop();
    await estimator?.close();
  });
  await app.listen({ host: config.host, port: config.port });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        app.log.error('shutdown took too long; exiting');
        resolve(1);
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      // In-flight requests get half the grace to finish; then their connections are cut so the rest (queue, database)
      // still closes in time. A keep-alive client holding a request open would otherwise use up the whole grace.
      const cut = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS / 2);
      cut.unref();
      app.close()
        .then(() => adapters.close())
        .then(() => resolve(0), (error) => {
          app.log.error({ err: error }, 'error during shutdown');
          resolve(1);
        })
        .finally(() => {
          clearTimeout(force);
          clearTimeout(cut);
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
