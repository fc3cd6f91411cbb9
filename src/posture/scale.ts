// Where centimetres come from. Pixels become cm only through a stated scale: the subject's height, a known
// calibration, an estimate from body proportions, or the seed's one-off factor for clients that ask for it.
import { PostureInputError } from './errors.ts';
import { distance, type Point } from './geometry.ts';
import { keypointOf, type Keypoint, type KeypointName } from './keypoints.ts';
import { median, round } from './scoring.ts';

/** The seed's one-off studio calibration (100 cm = 644 px), kept only for clients that ask for seed-exact numbers. */
export const SEED_CM_PER_PX = 100 / 644;
/**
 * Height assumed when none is given: a round adult figure between typical adult male (~176 cm) and female
 * (~163 cm) means in Europe and North America. A real person may differ by 10 cm or more (about ±6 %).
 */
export const ASSUMED_ADULT_HEIGHT_CM = 170;
/** Accepted subject heights, in cm: anything outside is a typo or another unit, not a person. */
export const SUBJECT_HEIGHT_RANGE_CM = { min: 50, max: 250 } as const;

/**
 * Segment lengths as fractions of stature H (Drillis & Contini 1966, as tabulated in Winter, Biomechanics and
 * Motor Control of Human Movement, Fig. 4.1): shoulder 0.818 H, greater trochanter 0.530 H, knee 0.285 H,
 * ankle 0.039 H above the floor. Only trunk and leg segments: arms bend and swing, and the head's keypoints
 * (eyes, ears, nose) sit at different distances from the shoulders in front and side views.
 */
const SEGMENTS: ReadonlyArray<{ ratio: number; sides: ReadonlyArray<readonly [KeypointName, KeypointName]> }> = [
  { ratio: 0.818 - 0.53, sides: [['left_shoulder', 'left_hip'], ['right_shoulder', 'right_hip']] },
  { ratio: 0.53 - 0.285, sides: [['left_hip', 'left_knee'], ['right_hip', 'right_knee']] },
  { ratio: 0.285 - 0.039, sides: [['left_knee', 'left_ankle'], ['right_knee', 'right_ankle']] },
];

/** What the caller asks for; `estimated` is the default. */
export type ScaleOption =
  | { source: 'subject_height'; heightCm: number }
  | { source: 'calibration'; cmPerPx: number }
  | { source: 'estimated' }
  | { source: 'seed_default' };

/** The scale every cm value of a result was computed with, as stated in the result (`scale`). */
export type ScaleSource =
  | { source: 'subject_height'; cm_per_px: number; height_cm: number; stature_px: number }
  | { source: 'calibration'; cm_per_px: number }
  | { source: 'estimated'; cm_per_px: number; assumed_height_cm: number; stature_px: number; note: string }
  | { source: 'seed_default'; cm_per_px: number; note: string };

/** Checks a scale option once, so bad input is a 400 before any work. */
export function assertScaleOption(option: ScaleOption): void {
  if (option.source === 'subject_height') {
    const { min, max } = SUBJECT_HEIGHT_RANGE_CM;
    if (!(option.heightCm >= min && option.heightCm <= max)) {
      throw new PostureInputError('invalid_option', `heightCm must be between ${min} and ${max} (centimetres)`);
    }
  } else if (option.source === 'calibration' && !(option.cmPerPx > 0 && Number.isFinite(option.cmPerPx))) {
    throw new PostureInputError('invalid_option', 'pxToCm must be a positive number');
  }
}

/**
 * Stature in pixels from one pose: the summed trunk, thigh and shank lengths over the sum of their ratios, using
 * the segments whose two points are confident (each the mean of the confident sides). Summing segment lengths
 * rather than measuring head-to-foot keeps the estimate unchanged by bent knees or a leaning trunk; only
 * foreshortening (a segment pointing at the camera) shortens it. Null when no segment is measurable.
 */
export function staturePx(keypoints: readonly Keypoint[], threshold: number): number | null {
  const point = (name: KeypointName): Point | undefined => {
    const [x, y, s] = keypointOf(keypoints, name);
    return s >= threshold ? { x, y } : undefined;
  };
  let length = 0;
  let ratio = 0;
  for (const segment of SEGMENTS) {
    const lengths: number[] = [];
    for (const [a, b] of segment.sides) {
      const pa = point(a);
      const pb = point(b);
      if (pa && pb) lengths.push(distance(pa, pb));
    }
    if (lengths.length === 0) continue;
    length += lengths.reduce((s, v) => s + v, 0) / lengths.length;
    ratio += segment.ratio;
  }
  return ratio > 0 && length > 0 ? length / ratio : null;
}

/**
 * Resolves the scale of a clip (or a single pose): one number for all its frames, from the median stature over
 * the frames where one can be measured, so a frame with a bent or half-hidden body does not change the clip's
 * centimetres. Null when the scale depends on a stature and none could be measured; cm metrics are then omitted.
 */
export function resolveScale(option: ScaleOption, poses: readonly (readonly Keypoint[])[], threshold: number): ScaleSource | null {
  if (option.source === 'calibration') return { source: 'calibration', cm_per_px: option.cmPerPx };
  if (option.source === 'seed_default') {
    return { source: 'seed_default', cm_per_px: SEED_CM_PER_PX, note: "The seed's fixed studio calibration (100 cm = 644 px), whatever the camera distance." };
  }
  const statures = poses.map((p) => staturePx(p, threshold)).filter((s): s is number => s !== null);
  if (statures.length === 0) return null;
  const stature = median(statures);
  const staturePxRounded = round(stature, 1);
  if (option.source === 'subject_height') {
    return { source: 'subject_height', cm_per_px: option.heightCm / stature, height_cm: option.heightCm, stature_px: staturePxRounded };
  }
  return {
    source: 'estimated',
    cm_per_px: ASSUMED_ADULT_HEIGHT_CM / stature,
    assumed_height_cm: ASSUMED_ADULT_HEIGHT_CM,
    stature_px: staturePxRounded,
    note: `Estimated from body proportions (trunk and leg lengths, Drillis & Contini) assuming a height of ${ASSUMED_ADULT_HEIGHT_CM} cm; give the subject's height for real centimetres.`,
  };
}

/** One line for people (CLI, PDF): where the centimetres of a result come from. */
export function describeScale(scale: ScaleSource | null): string {
  if (!scale) return 'Centimetres: none (no body segment visible to set a scale).';
  const perPx = `${round(scale.cm_per_px, 4)} cm/px`;
  switch (scale.source) {
    case 'subject_height':
      return `Centimetres: scaled by the subject's height of ${scale.height_cm} cm (${perPx}).`;
    case 'calibration':
      return `Centimetres: from a calibration (${perPx}).`;
    case 'estimated':
      return `Centimetres: estimated from body proportions, assuming a height of ${scale.assumed_height_cm} cm (${perPx}).`;
    case 'seed_default':
      return `Centimetres: the seed's fixed factor (${perPx}), whatever the camera distance.`;
  }
}
