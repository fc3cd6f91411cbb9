import type { EstimateOptions, PeopleOptions, PoseEstimator } from './pose-estimator.ts';
import { UnknownModelError } from './pose-estimator.ts';
import type { PersonCandidate, PoseResult, RgbImage } from './pose-types.ts';

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

  /** Located where the model's frames go, so a video's keyframes and its frames see the same pixels and code. */
  people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    const target = this.routes.get(opts.model);
    if (!target) throw new UnknownModelError(opts.model, this.models());
    return target.people(image, opts);
  }

  models(): string[] {
    return [...this.routes.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.routes.values())].map((estimator) => estimator.close()));
  }
}
