// Geometry of a person: boxes from keypoints, crop regions that keep the whole body, prominence among several.
import type { Roi } from './image-ops.ts';
import type { Box, Keypoint } from './pose-types.ts';

export const MIN_POINT_SCORE = 0.2;

/** Extent of the confident keypoints (null when fewer than 3 are confident). */
export function boxFromKeypoints(kps: readonly Keypoint[], minScore = MIN_POINT_SCORE): Box | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let n = 0;
  for (const [x, y, s] of kps) {
    if (s < minScore) continue;
    n++;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  if (n < 3) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Pads a box by `ratio` of its size on every side. */
export function padBox(box: Box, ratio: number): Box {
  const px = box.width * ratio;
  const py = box.height * ratio;
  return { x: box.x - px, y: box.y - py, width: box.width + 2 * px, height: box.height + 2 * py };
}

/** Square, axis-aligned ROI around a box: side = longest edge × `scale`, never smaller than `minSize`. */
export function squareRoiFromBox(box: Box, scale = 1.25, minSize = 32): Roi {
  return {
    cx: box.x + box.width / 2,
    cy: box.y + box.height / 2,
    size: Math.max(minSize, Math.max(box.width, box.height) * scale),
    angle: 0,
  };
}

/**
 * MoveNet's own crop rule (from its reference implementation), without clipping to the image: centred on the hips,
 * half-size the larger of 1.9 × torso range and 1.2 × body range, so a body bent or reaching keeps its limbs in view.
 */
export function bodyCropRoi(kps: readonly Keypoint[], minScore = MIN_POINT_SCORE): Roi | null {
  const lh = kps[11]!;
  const rh = kps[12]!;
  const ls = kps[5]!;
  const rs = kps[6]!;
  let cx: number;
  let cy: number;
  if (lh[2] >= minScore && rh[2] >= minScore) {
    cx = (lh[0] + rh[0]) / 2;
    cy = (lh[1] + rh[1]) / 2;
  } else {
    const box = boxFromKeypoints(kps, minScore);
    if (!box) return null;
    cx = box.x + box.width / 2;
    cy = box.y + box.height / 2;
  }
  let torso = 0;
  for (const k of [ls, rs, lh, rh]) {
    if (k[2] < minScore) continue;
    torso = Math.max(torso, Math.abs(cy - k[1]), Math.abs(cx - k[0]));
  }
  let body = 0;
  for (const k of kps) {
    if (k[2] < minScore) continue;
    body = Math.max(body, Math.abs(cy - k[1]), Math.abs(cx - k[0]));
  }
  const half = Math.max(torso * 1.9, body * 1.2);
  if (!(half > 0)) return null;
  return { cx, cy, size: 2 * half, angle: 0 };
}

/** The same ROI with its side scaled by `k` (same centre and rotation). */
export function scaleRoi(roi: Roi, k: number): Roi {
  return { ...roi, size: roi.size * k };
}

/** How much a candidate stands out: its area weighted by its confidence ("largest, most confident"). */
export function prominence(box: Box, score: number): number {
  return Math.max(0, box.width) * Math.max(0, box.height) * Math.max(0, score) ** 2;
}

export function meanScore(kps: readonly Keypoint[]): number {
  return kps.reduce((s, k) => s + k[2], 0) / Math.max(1, kps.length);
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Averages a pose with its mirrored twin (run on the horizontally flipped crop, already mapped back to image
 * coordinates), swapping left and right. Score-weighted, so a point one pass missed follows the other.
 */
export function mergeFlipped(
  a: readonly Keypoint[],
  b: readonly Keypoint[],
  flipIndex: readonly number[],
  agreeDistance = Infinity,
): Keypoint[] {
  return a.map((p, i) => {
    const q = b[flipIndex[i]!]!;
    // Two passes that disagree (left/right swapped, a limb taken for another) are not averaged: the surer wins.
    if (Math.hypot(p[0] - q[0], p[1] - q[1]) > agreeDistance) return p[2] >= q[2] ? [...p] : [...q];
    const w = p[2] + q[2];
    if (w <= 0) return [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2, 0];
    return [(p[0] * p[2] + q[0] * q[2]) / w, (p[1] * p[2] + q[1] * q[2]) / w, (p[2] + q[2]) / 2];
  });
}

/**
 * Test-time ensemble of several passes over the same person (other crops, other scales, mirrored crops already
 * mapped back and swapped). Per keypoint, the candidate with the most score within `agreeDistance` of it is the
 * anchor (the first pass wins ties), and the candidates within reach of the anchor are averaged, score-weighted.
 * So a pass that took one limb for another is outvoted instead of pulling the point halfway between two limbs; with
 * two passes this is `mergeFlipped`. No randomness and a fixed order: the same passes always give the same answer.
 */
export function mergePasses(passes: ReadonlyArray<readonly Keypoint[]>, agreeDistance = Infinity): Keypoint[] {
  const first = passes[0];
  if (!first) return [];
  return first.map((_, i) => {
    const cands = passes.map((p) => p[i]!);
    const near = (a: Keypoint, b: Keypoint): boolean => Math.hypot(a[0] - b[0], a[1] - b[1]) <= agreeDistance;
    let anchor = cands[0]!;
    let best = -1;
    for (const c of cands) {
      const support = cands.reduce((s, d) => (near(c, d) ? s + d[2] : s), 0);
      if (support > best) [anchor, best] = [c, support];
    }
    const group = cands.filter((c) => near(anchor, c));
    const w = group.reduce((s, c) => s + c[2], 0);
    const n = group.length;
    if (w <= 0) return [group.reduce((s, c) => s + c[0], 0) / n, group.reduce((s, c) => s + c[1], 0) / n, 0];
    return [group.reduce((s, c) => s + c[0] * c[2], 0) / w, group.reduce((s, c) => s + c[1] * c[2], 0) / w, w / n];
  });
}
