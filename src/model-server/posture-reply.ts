import type { Keypoint } from '../pose/pose-types.ts';
import { evaluatePose, isPostureInputError } from '../posture/index.ts';
import type { UploadView } from '../posture/index.ts';

/**
 * The posture fields of a model-server reply: `posture_score` holds the scored side and each metric's weighted
 * score, as the studio clients read it, beside the per-metric percentages and measurements.
 */
export function postureReply(keypoints: Keypoint[], view: UploadView, profile = 'stance'): object {
  try {
    const result = evaluatePose(keypoints, { view, profile });
    return {
      posture_score: { side: result.view, ...result.score },
      raw_scores_percent: result.raw_scores_percent,
      measurements: result.measurements,
      // cm values are estimated from this pose's body proportions (no height is known here); the scale says so.
      scale: result.scale,
      detected_view: result.detected_view,
      warnings: result.warnings,
    };
  } catch (error) {
    if (isPostureInputError(error)) return { posture_score: null, warnings: [error.message] };
    throw error;
  }
}
