// Where the next video frame is cropped for the pose model. MoveNet sees a 192-pixel square: the whole frame
// letterboxed leaves a person across the room a few dozen pixels tall (low confidence, no angle), so once a person is
// found the next frame is cropped around them, the way MoveNet's own demos track; while nobody is tracked the
// search alternates between the whole frame and squares of the frame's height. Pure, so it is unit-tested in Node.
import { fullImageRoi, type Roi } from '../../../src/pose/image-ops.ts';
import type { Keypoint } from '../../../src/posture/keypoints.ts';

/** A point counts toward the person's box from this score. */
const MIN_SCORE = 0.3;
/** Indices of the shoulders and hips in COCO-17 order: the torso the posture angle needs. */
const TORSO = [5, 6, 11, 12];
/** Below this mean torso score the crop is not trusted: it may have locked onto a lamp or a flare. */
const MIN_TORSO_SCORE = 0.4;
const MIN_POINTS = 6;
/** The crop is this many times the box of the points found, so a moving person stays inside it. */
const MARGIN = 1.6;
/** Never smaller than this share of the frame's shorter side (a false detection must not zoom onto one point). */
const MIN_SHARE = 0.35;

/**
 * The crop around the person in `keypoints` (pixels of a `width`×`height` frame), or null to search again: when
 * fewer than six points were found, the torso is uncertain, or the crop would be as large as the frame.
 */
export function trackingRoi(keypoints: readonly Keypoint[], width: number, height: number): Roi | null {
  const found = keypoints.filter((p) => p[2] >= MIN_SCORE);
  const torsoScore = TORSO.reduce((sum, i) => sum + (keypoints[i]?.[2] ?? 0), 0) / TORSO.length;
  if (found.length < MIN_POINTS || torsoScore < MIN_TORSO_SCORE) return null;
  const xs = found.map((p) => p[0]);
  const ys = found.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const size = Math.max((x1 - x0) * MARGIN, (y1 - y0) * MARGIN, Math.min(width, height) * MIN_SHARE);
  if (size >= Math.max(width, height)) return null;
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, size, angle: 0 };
}

/**
 * The crops tried in turn while nobody is tracked: the whole frame, then, for a frame wider than about 5:4, squares
 * of its height at either end (a 16:9 frame's person gets 1.8 times the pixels there).
 */
export function searchRois(width: number, height: number): Roi[] {
  const whole = fullImageRoi({ width, height });
  const side = Math.min(width, height);
  if (Math.max(width, height) < side * 1.25) return [whole];
  const along = width > height;
  const end = (at: number): Roi => ({ cx: along ? at : width / 2, cy: along ? height / 2 : at, size: side, angle: 0 });
  return [whole, end(side / 2), end(Math.max(width, height) - side / 2)];
}
