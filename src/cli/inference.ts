import { SERVICE_SUBJECT, TokenService } from '../auth/token.service.ts';
import type { Config } from '../config/config.ts';
import type { DatabaseHandle } from '../infra/db/database.ts';
import { createRevocationsRepository } from '../auth/revocations.repository.ts';
import { DEFAULT_PUBLIC_MODELS } from '../pose/model-registry.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { RemotePoseEstimator } from '../pose/remote-pose-estimator.ts';
import { RoutingPoseEstimator } from '../pose/routing-pose-estimator.ts';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';

/**
 * The estimator analyses use: models named in MODEL_SERVER_URLS go to those model servers (authenticated with
 * single-use service ws tokens), the rest to a pool of inference threads in this process. The threads start on the
 * first analysis and stop after POSE_IDLE_SECONDS without one, so an idle server holds none.
 */
export function createEstimator(config: Config, jwtSecret: string, database: DatabaseHandle): PoseEstimator {
  const remote = Object.entries(config.modelServers);
  const local = DEFAULT_PUBLIC_MODELS.filter((model) => !(model in config.modelServers));
  const idleMs = config.jobs.poseIdleSeconds * 1000;
  if (remote.length === 0) return createPoseWorkerPool({ models: [...DEFAULT_PUBLIC_MODELS], idleMs });
  const tokens = new TokenService({
    secret: jwtSecret, revocations: createRevocationsRepository(database.db), wsTokenTtlSeconds: config.auth.wsTokenTtlSeconds,
  });
  const routes = new Map<string, PoseEstimator>();
  for (const [model, url] of remote) {
    routes.set(model, new RemotePoseEstimator({
      url, models: [model], getToken: async () => (await tokens.issueWsToken(SERVICE_SUBJECT)).token,
    }));
  }
  if (local.length > 0) {
    const pool = createPoseWorkerPool({ models: local, idleMs });
    for (const model of local) routes.set(model, pool);
  }
  return new RoutingPoseEstimator(routes);
}
