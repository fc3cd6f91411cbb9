import { KeypointInputError } from './errors.ts';

/** COCO-17 body keypoints in model output order; every pose model in Postura returns this order first. */
export const KEYPOINT_NAMES = [
  'nose',
  'left_eye',
  'right_eye',
  'left_ear',
  'right_ear',
  'left_shoulder',
  'right_shoulder',
  'left_elbow',
  'right_elbow',
  'left_wrist',
  'right_wrist',
  'left_hip',
  'right_hip',
  'left_knee',
  'right_knee',
  'left_ankle',
  'right_ankle',
] as const;

export type KeypointName = (typeof KEYPOINT_NAMES)[number];

/** `[x, y, score]` in pixels of the original image (y grows downward); score 0 means "not found". */
export type Keypoint = [x: number, y: number, score: number];

export const BODY_KEYPOINT_COUNT = 17;
/** COCO-WholeBody: the 17 body points come first, then feet, face and hands. */
export const WHOLE_BODY_KEYPOINT_COUNT = 133;

export const KEYPOINT_INDEX: Readonly<Record<KeypointName, number>> = Object.freeze(
  Object.fromEntries(KEYPOINT_NAMES.map((name, index) => [name, index])) as Record<KeypointName, number>,
);

/** Bones drawn on overlays (COCO skeleton, face included). */
export const SKELETON_EDGES: readonly (readonly [KeypointName, KeypointName])[] = [
  ['left_ankle', 'left_knee'],
  ['left_knee', 'left_hip'],
  ['right_ankle', 'right_knee'],
  ['right_knee', 'right_hip'],
  ['left_hip', 'right_hip'],
  ['left_shoulder', 'left_hip'],
  ['right_shoulder', 'right_hip'],
  ['left_shoulder', 'right_shoulder'],
  ['left_shoulder', 'left_elbow'],
  ['right_shoulder', 'right_elbow'],
  ['left_elbow', 'left_wrist'],
  ['right_elbow', 'right_wrist'],
  ['left_eye', 'right_eye'],
  ['nose', 'left_eye'],
  ['nose', 'right_eye'],
  ['left_eye', 'left_ear'],
  ['right_eye', 'right_ear'],
  ['left_ear', 'left_shoulder'],
  ['right_ear', 'right_shoulder'],
];

export function isKeypointName(value: string): value is KeypointName {
  return Object.hasOwn(KEYPOINT_INDEX, value);
}

/** Keypoint by name from a normalised 17-point list; a missing entry reads as score 0 rather than throwing. */
export function keypointOf(keypoints: readonly Keypoint[], name: KeypointName): Keypoint {
  return keypoints[KEYPOINT_INDEX[name]] ?? [0, 0, 0];
}

/**
 * Reads one point given as `[x, y, score?]`, `{x, y, confidence?}` or `{X, Y, score?}`; null/undefined means absent.
 * A point without any confidence counts as fully confident (clients without scores still get results).
 */
export function parsePoint(value: unknown, where: string): Keypoint | null {
  if (value === null || value === undefined) return null;
  let x: unknown;
  let y: unknown;
  let score: unknown;
  if (Array.isArray(value)) {
    if (value.length < 2) throw new KeypointInputError(`${where}: expected [x, y, score], got ${value.length} values`);
    [x, y, score] = value as unknown[];
  } else if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    x = o.x ?? o.X;
    y = o.y ?? o.Y;
    score = o.confidence ?? o.score;
  } else {
    throw new KeypointInputError(`${where}: expected [x, y, score] or {x, y, confidence}`);
  }
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new KeypointInputError(`${where}: x must be a finite number`);
  if (typeof y !== 'number' || !Number.isFinite(y)) throw new KeypointInputError(`${where}: y must be a finite number`);
  if (score === undefined || score === null) score = 1;
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
    throw new KeypointInputError(`${where}: confidence must be a number between 0 and 1`);
  }
  return [x, y, score];
}

/**
 * Reads an object keyed by COCO name, keeping which points were actually sent (live angles need presence, not
 * just score). Unknown names (feet, face) are ignored so richer models' output is accepted as is.
 */
export function parseNamedKeypoints(input: unknown): Partial<Record<KeypointName, Keypoint>> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new KeypointInputError('keypoints must be an object keyed by COCO keypoint name');
  }
  const out: Partial<Record<KeypointName, Keypoint>> = {};
  for (const key in input) {
    if (!Object.hasOwn(input, key) || !isKeypointName(key)) continue;
    const point = parsePoint((input as Record<string, unknown>)[key], `keypoints.${key}`);
    if (point) out[key] = point;
  }
  return out;
}

/**
 * Turns any accepted keypoint input into 17 COCO body points, missing ones as `[0, 0, 0]`.
 * Accepted: a list of 17 (COCO) or 133 (COCO-WholeBody, body first) points, or an object keyed by COCO name.
 * Zero coordinates are valid positions; only the score says whether a point was found.
 * @throws KeypointInputError with a message fit for a 400 response.
 */
export function normalizeKeypoints(input: unknown): Keypoint[] {
  if (Array.isArray(input)) {
    if (input.length !== BODY_KEYPOINT_COUNT && input.length !== WHOLE_BODY_KEYPOINT_COUNT) {
      throw new KeypointInputError(
        `expected ${BODY_KEYPOINT_COUNT} (COCO) or ${WHOLE_BODY_KEYPOINT_COUNT} (COCO-WholeBody) keypoints, got ${input.length}`,
      );
    }
    return KEYPOINT_NAMES.map((name, i) => parsePoint(input[i], `keypoints[${i}] (${name})`) ?? [0, 0, 0]);
  }
  const named = parseNamedKeypoints(input);
  if (Object.keys(named).length === 0) {
    throw new KeypointInputError('keypoints object holds no COCO keypoint name (e.g. "left_shoulder")');
  }
  return KEYPOINT_NAMES.map((name) => named[name] ?? [0, 0, 0]);
}
