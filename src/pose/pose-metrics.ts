// Accuracy measures for pose estimates against ground truth: PCK (torso-normalised) and posture-angle error.
// Pure functions, used by `npm run eval` and the accuracy tests.
import type { Keypoint } from './pose-types.ts';

/** Ground truth point: `[x, y, v]`, v = 0 when not labelled. */
export type GtKeypoint = [number, number, number];

/** Torso size: the longer shoulder-to-opposite-hip diagonal. */
export function torsoSize(gt: readonly GtKeypoint[]): number {
  const [ls, rs, lh, rh] = [gt[5]!, gt[6]!, gt[11]!, gt[12]!];
  const d1 = ls[2] > 0 && rh[2] > 0 ? Math.hypot(ls[0] - rh[0], ls[1] - rh[1]) : 0;
  const d2 = rs[2] > 0 && lh[2] > 0 ? Math.hypot(rs[0] - lh[0], rs[1] - lh[1]) : 0;
  return Math.max(d1, d2);
}

/** Per-keypoint hit (true/false) or null when the point is not labelled. */
export function pckHits(pred: readonly Keypoint[], gt: readonly GtKeypoint[], alpha = 0.2): Array<boolean | null> {
  const limit = alpha * torsoSize(gt);
  return gt.map((g, i) => {
    if (g[2] <= 0) return null;
    const p = pred[i]!;
    return Math.hypot(p[0] - g[0], p[1] - g[1]) <= limit;
  });
}

type Triple = [number, number, number];

/** Posture angles (degrees) computed from COCO-17 points; a missing point leaves its angle out. */
export const ANGLES: Record<string, { points: Triple | [number, number, number, number]; kind: 'joint' | 'trunk' }> = {
  left_knee: { points: [11, 13, 15], kind: 'joint' },
  right_knee: { points: [12, 14, 16], kind: 'joint' },
  left_hip: { points: [5, 11, 13], kind: 'joint' },
  right_hip: { points: [6, 12, 14], kind: 'joint' },
  left_elbow: { points: [5, 7, 9], kind: 'joint' },
  right_elbow: { points: [6, 8, 10], kind: 'joint' },
  trunk: { points: [5, 6, 11, 12], kind: 'trunk' },
};

function jointAngle(a: readonly number[], b: readonly number[], c: readonly number[]): number {
  const v1 = [a[0]! - b[0]!, a[1]! - b[1]!];
  const v2 = [c[0]! - b[0]!, c[1]! - b[1]!];
  const cos = (v1[0]! * v2[0]! + v1[1]! * v2[1]!) / (Math.hypot(v1[0]!, v1[1]!) * Math.hypot(v2[0]!, v2[1]!) || 1);
  return (Math.acos(Math.max(-1, Math.min(1, cos))) * 180) / Math.PI;
}

/** Trunk lean: angle of the hip-centre → shoulder-centre segment from the vertical, signed. */
function trunkAngle(ls: readonly number[], rs: readonly number[], lh: readonly number[], rh: readonly number[]): number {
  const sx = (ls[0]! + rs[0]!) / 2;
  const sy = (ls[1]! + rs[1]!) / 2;
  const hx = (lh[0]! + rh[0]!) / 2;
  const hy = (lh[1]! + rh[1]!) / 2;
  return (Math.atan2(sx - hx, hy - sy) * 180) / Math.PI;
}

export function postureAngles(kps: ReadonlyArray<readonly number[]>, labelled: (i: number) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, def] of Object.entries(ANGLES)) {
    if (!def.points.every((i) => labelled(i))) continue;
    const p = def.points.map((i) => kps[i]!);
    out[name] = def.kind === 'joint' ? jointAngle(p[0]!, p[1]!, p[2]!) : trunkAngle(p[0]!, p[1]!, p[2]!, p[3]!);
  }
  return out;
}

/** Absolute angle differences (degrees) between prediction and ground truth, for the angles GT defines. */
export function angleErrors(pred: readonly Keypoint[], gt: readonly GtKeypoint[]): Record<string, number> {
  const truth = postureAngles(gt, (i) => gt[i]![2] > 0);
  const guess = postureAngles(pred, () => true);
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(truth)) {
    const g = guess[name];
    if (g === undefined) continue;
    let d = Math.abs(g - t) % 360;
    if (d > 180) d = 360 - d;
    out[name] = d;
  }
  return out;
}

/** What one prediction scored on one image: PCK hits among the labelled points, and each posture angle's error. */
export interface ImageScore {
  hits: number;
  labelled: number;
  angleErrors: number[];
}

export interface PooledScore {
  /** PCK@0.2 over every labelled point of the images pooled. */
  pck: number;
  /** Mean of every angle error of the images pooled (NaN when there is none). */
  angleError: number;
}

/**
 * Scores a prediction against the annotated people of one image: the person it matches best (most PCK hits, the
 * first on ties) is the one it is about. `null` (nobody found) misses every point and has no angle.
 */
export function scoreImage(pred: readonly Keypoint[] | null, people: ReadonlyArray<readonly GtKeypoint[]>): ImageScore & { gt: readonly GtKeypoint[] } {
  const kps: Keypoint[] = pred ? [...pred] : Array.from({ length: 17 }, (): Keypoint => [-1e6, -1e6, 0]);
  let gt = people[0]!;
  let hits: Array<boolean | null> = pckHits(kps, gt);
  for (const p of people.slice(1)) {
    const h = pckHits(kps, p);
    if (h.filter((v) => v === true).length > hits.filter((v) => v === true).length) [gt, hits] = [p, h];
  }
  return {
    gt,
    hits: hits.filter((v) => v === true).length,
    labelled: hits.filter((v) => v !== null).length,
    angleErrors: pred ? Object.values(angleErrors(kps, gt)) : [],
  };
}

export function poolScores(scores: readonly ImageScore[]): PooledScore {
  const hits = scores.reduce((s, x) => s + x.hits, 0);
  const labelled = scores.reduce((s, x) => s + x.labelled, 0);
  const angles = scores.flatMap((x) => x.angleErrors);
  return { pck: labelled ? hits / labelled : NaN, angleError: angles.length ? angles.reduce((a, b) => a + b, 0) / angles.length : NaN };
}

/**
 * What cross-validation minimises to choose among candidates: angle error in degrees + 100 × (1 − PCK), so one
 * point of PCK weighs as much as one degree (the two targets, PCK 0.96 and 8°, are about that far from the
 * baseline in both). Fixed before looking at any result.
 */
export function selectionLoss(p: PooledScore): number {
  return (Number.isNaN(p.angleError) ? 90 : p.angleError) + 100 * (1 - p.pck);
}

export interface CrossValidated extends PooledScore {
  /** The candidate chosen for each held-out image (on the other images). */
  chosen: string[];
}

/**
 * Leave-one-image-out: for every image, the candidate with the lowest `selectionLoss` on all the other images (the
 * earlier candidate on ties) answers the held-out image; the held-out answers are pooled. This is the figure a
 * choice made on the dev set can be expected to reach on images nobody chose anything on.
 */
export function leaveOneOut(candidates: ReadonlyArray<{ name: string; scores: readonly ImageScore[] }>): CrossValidated {
  const n = candidates[0]?.scores.length ?? 0;
  const held: ImageScore[] = [];
  const chosen: string[] = [];
  for (let i = 0; i < n; i++) {
    let best = candidates[0]!;
    let bestLoss = Infinity;
    for (const c of candidates) {
      const loss = selectionLoss(poolScores(c.scores.filter((_, j) => j !== i)));
      if (loss < bestLoss) [best, bestLoss] = [c, loss];
    }
    held.push(best.scores[i]!);
    chosen.push(best.name);
  }
  return { ...poolScores(held), chosen };
}

/**
 * Signed offset of the predicted hip centre from the true one along the true body axis (hip centre → shoulder
 * centre), in torso sizes: > 0 = the model puts hips higher up the body. Null when the torso is not labelled.
 */
export function hipOffset(pred: readonly Keypoint[], gt: readonly GtKeypoint[]): number | null {
  if (![5, 6, 11, 12].every((i) => gt[i]![2] > 0)) return null;
  const mid = (pts: ReadonlyArray<readonly number[]>, a: number, b: number): [number, number] => [
    (pts[a]![0]! + pts[b]![0]!) / 2,
    (pts[a]![1]! + pts[b]![1]!) / 2,
  ];
  const [sx, sy] = mid(gt, 5, 6);
  const [hx, hy] = mid(gt, 11, 12);
  const [px, py] = mid(pred, 11, 12);
  const len = Math.hypot(sx - hx, sy - hy);
  const t = torsoSize(gt);
  if (!(len > 0) || !(t > 0)) return null;
  return ((px - hx) * (sx - hx) + (py - hy) * (sy - hy)) / len / t;
}
