import type { EstimateOptions, PoseEstimator } from './pose-estimator.ts';
import { UnknownModelError } from './pose-estimator.ts';
import type { PoseResult, RgbImage } from './pose-types.ts';

/**
 * Sends each model to the estimator that serves it: some models to remote model servers, the rest to the
 * in-process pool. Callers see one estimator whatever the deployment.
 */
export class RoutingPoseEstimator implements PoseEstimator {
  constructor(private readonly routes: ReadonlyMap<string, PoseEstimator>) {}

  estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    const target = this.routes.get(opts.model);
    if (!target) throw new UnknownModelError(opts.model, this.models());
    return target.estimate(image, opts);
  }

  models(): string[] {
    return [...this.routes.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.routes.values())].map((estimator) => estimator.close()));
  }
}
