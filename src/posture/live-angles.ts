// Live sessions (SPEC 7): spine and neck angles from a client's keypoints, and the Good/Mild/Bad label.
import { AngleOutOfRangeError, KeypointInputError, PostureInputError } from './errors.ts';
import { toDegrees, midpoint } from './geometry.ts';
import { parseNamedKeypoints, type Keypoint, type KeypointName } from './keypoints.ts';
import { round } from './scoring.ts';

export type PostureLabel = 'Good' | 'Mild' | 'Bad';

export interface LiveAngles {
  /** Spine angle from vertical in degrees, 0 = upright; null when the points are too uncertain. */
  angle: number | null;
  /** Nose offset from the shoulder midpoint as an angle, signed (+ = nose to image right); null without a nose. */
  neck_tilt: number | null;
  /** Mean confidence of the points used, 2 decimals. */
  score: number;
  /** Label from the angle's distance to the calibration baseline; null when `angle` is null. */
  label: PostureLabel | null;
}

export interface LiveAngleOptions {
  /** The user's calibrated upright angle in degrees (default 0). */
  baseline?: number;
  /** Below this mean confidence the angles are withheld (default 0.3). */
  minConfidence?: number;
}

const REQUIRED: readonly KeypointName[] = ['left_shoulder', 'right_shoulder', 'left_hip', 'right_hip'];

/** ≤ 10° from the baseline is Good, ≤ 20° Mild, more is Bad. */
export function labelForAngle(angle: number, baseline = 0): PostureLabel {
  const off = Math.abs(angle - baseline);
  return off <= 10 ? 'Good' : off <= 20 ? 'Mild' : 'Bad';
}

/** A client-sent angle (no keypoints) must be a number in [0, 90]. @throws PostureInputError */
export function assertLiveAngle(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 90) {
    throw new PostureInputError('angle_out_of_range', 'angle must be a number between 0 and 90');
  }
}

/**
 * Computes a live posture event's angles from keypoints keyed by COCO name (`{x, y, confidence}`,
 * `{X, Y, score}` or `[x, y, conf]`). The mean confidence covers the points used: both shoulders, both hips and
 * the nose when sent.
 * @throws KeypointInputError when a shoulder or hip is missing or a point is malformed
 * @throws AngleOutOfRangeError when the spine angle is outside [0, 90] (e.g. hips above shoulders)
 */
export function computeLiveAngles(keypoints: unknown, options: LiveAngleOptions = {}): LiveAngles {
  const named = parseNamedKeypoints(keypoints);
  const missing = REQUIRED.filter((name) => !named[name]);
  if (missing.length > 0) {
    throw new KeypointInputError(`Missing required keypoints: ${missing.join(', ')}`, 'missing_keypoints');
  }
  const [ls, rs, lh, rh] = REQUIRED.map((name) => named[name]) as [Keypoint, Keypoint, Keypoint, Keypoint];
  const nose = named.nose;
  const used = nose ? [ls, rs, lh, rh, nose] : [ls, rs, lh, rh];
  const meanConfidence = used.reduce((s, p) => s + p[2], 0) / used.length;
  const score = round(meanConfidence, 2);
  if (meanConfidence < (options.minConfidence ?? 0.3)) return { angle: null, neck_tilt: null, score, label: null };

  const s = midpoint({ x: ls[0], y: ls[1] }, { x: rs[0], y: rs[1] });
  const h = midpoint({ x: lh[0], y: lh[1] }, { x: rh[0], y: rh[1] });
  const dx = h.x - s.x;
  const dy = h.y - s.y;
  const angle = Math.abs(toDegrees(Math.atan2(dx, dy)));
  if (angle > 90) throw new AngleOutOfRangeError();
  const neckTilt = nose ? toDegrees(Math.atan2(nose[0] - s.x, Math.abs(dy))) : null;
  return {
    angle: round(angle, 2),
    neck_tilt: neckTilt === null ? null : round(neckTilt, 2),
    score,
    label: labelForAngle(angle, options.baseline ?? 0),
  };
}
