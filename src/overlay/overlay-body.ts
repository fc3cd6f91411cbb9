// The body as an overlay draws it: skeleton, keypoints coloured by confidence, and each mark (an angle or distance
// at the joint where it was measured) with its callout. Shared by the still overlay (overlay.ts) and every frame of
// the overlay video (overlay-video.ts), so the two read alike.
import type { Point } from '../posture/geometry.ts';
import { KEYPOINT_INDEX, SKELETON_EDGES, type Keypoint } from '../posture/keypoints.ts';
import type { OverlayMark } from './overlay-content.ts';
import { el, line, n, type Attrs, type Box, type LabelLayer } from './overlay-labels.ts';

/** Red (0) → yellow → green (1): the keypoint's confidence at a glance. */
export function confidenceColour(score: number): string {
  const hue = Math.round(120 * Math.min(1, Math.max(0, score)));
  return `hsl(${hue}, 90%, 50%)`;
}

/** A metric's sub-score in percent: green when met, amber half way, red below; blue when the result has none. */
export function metricColour(percent: number | undefined | null): string {
  if (percent === undefined || percent === null) return '#38bdf8';
  if (percent >= 100) return '#22c55e';
  if (percent >= 50) return '#f59e0b';
  return '#ef4444';
}

export interface DrawingSizes {
  /** Picture px per px of a 640 px picture. */
  unit: number;
  stroke: number;
  dot: number;
  font: number;
  radius: number;
}

/** Sizes scale with the picture, so the drawing reads the same at 320 px and at 4K. */
export function drawingSizes(width: number, height: number): DrawingSizes {
  const unit = Math.max(width, height) / 640;
  return { unit, stroke: Math.max(1.5, 3 * unit), dot: Math.max(2.5, 5 * unit), font: Math.max(10, 13 * unit), radius: Math.max(14, 28 * unit) };
}

/** Bounding box of the confident keypoints, or null when there are fewer than two. */
export function bodyBox(keypoints: readonly Keypoint[], threshold: number): Box | null {
  const pts = keypoints.filter((k) => k[2] >= threshold);
  if (pts.length < 2) return null;
  const xs = pts.map((k) => k[0]);
  const ys = pts.map((k) => k[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y };
}

function unit(from: Point, to: Point): Point | null {
  const len = Math.hypot(to.x - from.x, to.y - from.y);
  return len > 0 ? { x: (to.x - from.x) / len, y: (to.y - from.y) / len } : null;
}

function isKeypointAt(p: Point, keypoints: readonly Keypoint[]): boolean {
  return keypoints.some(([x, y, s]) => s > 0 && Math.abs(x - p.x) < 0.5 && Math.abs(y - p.y) < 0.5);
}

function drawMark(mark: OverlayMark, sizes: DrawingSizes, keypoints: readonly Keypoint[], out: string[], labels: LabelLayer): void {
  const { stroke, radius } = sizes;
  const a = mark.annotation;
  const colour = metricColour(mark.percent);
  // The callout is part of the frame section: it shows the frame's own value, tagged so a test can read it back.
  const data: Attrs = mark.measurement ? { 'data-section': 'frame', 'data-measurement': mark.measurement } : {};
  if (a.kind === 'line') {
    const dash = `${n(stroke * 2.5)} ${n(stroke * 1.5)}`;
    out.push(line(a.from, a.to, { stroke: colour, 'stroke-width': stroke * 0.8, 'stroke-dasharray': dash, 'stroke-linecap': 'round' }));
    labels.callout(mark.label, { x: (a.from.x + a.to.x) / 2, y: (a.from.y + a.to.y) / 2 }, colour, data);
    return;
  }
  const u1 = unit(a.vertex, a.from);
  const u2 = unit(a.vertex, a.to);
  if (!u1 || !u2) return;
  const lenFrom = Math.hypot(a.from.x - a.vertex.x, a.from.y - a.vertex.y);
  const lenTo = Math.hypot(a.to.x - a.vertex.x, a.to.y - a.vertex.y);
  const r = Math.max(stroke * 3, Math.min(radius, 0.7 * lenFrom, 0.7 * lenTo));
  // A reference direction that is not a body segment (true vertical / horizontal) is drawn dashed.
  if (!isKeypointAt(a.from, keypoints)) {
    const len = Math.min(lenFrom, r * 2.2);
    const end = { x: a.vertex.x + u1.x * len, y: a.vertex.y + u1.y * len };
    const dash = `${n(stroke * 2)} ${n(stroke * 1.5)}`;
    out.push(line(a.vertex, end, { stroke: '#ffffff', 'stroke-opacity': 0.9, 'stroke-width': stroke * 0.6, 'stroke-dasharray': dash }));
  }
  out.push(line(a.vertex, a.to, { stroke: colour, 'stroke-opacity': 0.9, 'stroke-width': stroke * 0.6 }));
  const t1 = Math.atan2(u1.y, u1.x);
  let delta = Math.atan2(u2.y, u2.x) - t1;
  while (delta > Math.PI) delta -= 2 * Math.PI;
  while (delta <= -Math.PI) delta += 2 * Math.PI;
  const p1 = { x: a.vertex.x + r * u1.x, y: a.vertex.y + r * u1.y };
  const p2 = { x: a.vertex.x + r * u2.x, y: a.vertex.y + r * u2.y };
  // In y-down SVG space a positive atan2 step is clockwise, which is sweep-flag 1.
  const sweep = delta > 0 ? 1 : 0;
  const arc = `A ${n(r)} ${n(r)} 0 0 ${sweep} ${n(p2.x)} ${n(p2.y)}`;
  const curve = `M ${n(p1.x)} ${n(p1.y)} ${arc}`;
  out.push(
    el('path', { d: `M ${n(a.vertex.x)} ${n(a.vertex.y)} L ${n(p1.x)} ${n(p1.y)} ${arc} Z`, fill: colour, 'fill-opacity': 0.35 }),
    // A dark under-stroke keeps the arc visible on clothing of the same colour.
    el('path', { d: curve, fill: 'none', stroke: '#0f172a', 'stroke-opacity': 0.7, 'stroke-width': stroke * 2, 'stroke-linecap': 'round' }),
    el('path', { d: curve, fill: 'none', stroke: colour, 'stroke-width': stroke, 'stroke-linecap': 'round' }),
  );
  const mid = t1 + delta / 2;
  labels.callout(mark.label, { x: a.vertex.x + r * Math.cos(mid), y: a.vertex.y + r * Math.sin(mid) }, colour, data);
}

/**
 * SVG elements of the body, bottom to top: the bones, the marks, the keypoints. The marks' callouts go to `labels`,
 * which the caller draws above everything (leaders, then boxes).
 */
export function drawBody(
  body: { keypoints: readonly Keypoint[]; marks: readonly OverlayMark[] },
  threshold: number,
  sizes: DrawingSizes,
  labels: LabelLayer,
): string[] {
  const { keypoints } = body;
  const { stroke, dot } = sizes;
  const out: string[] = [];
  for (const [a, b] of SKELETON_EDGES) {
    const pa = keypoints[KEYPOINT_INDEX[a]];
    const pb = keypoints[KEYPOINT_INDEX[b]];
    if (!pa || !pb || pa[2] <= 0 || pb[2] <= 0) continue;
    const weak = pa[2] < threshold || pb[2] < threshold;
    const from = { x: pa[0], y: pa[1] };
    const to = { x: pb[0], y: pb[1] };
    // Bones touching a point below the threshold are dashed and faint: drawn, but visibly not trusted.
    const dash: Record<string, string> = weak ? { 'stroke-dasharray': `${n(stroke * 2)} ${n(stroke * 2)}` } : {};
    out.push(
      line(from, to, { stroke: '#0f172a', 'stroke-opacity': weak ? 0.3 : 0.6, 'stroke-width': stroke * 2.2, 'stroke-linecap': 'round', ...dash }),
      line(from, to, { stroke: '#f8fafc', 'stroke-opacity': weak ? 0.5 : 0.95, 'stroke-width': stroke, 'stroke-linecap': 'round', ...dash }),
    );
  }
  for (const mark of body.marks) drawMark(mark, sizes, keypoints, out, labels);
  for (const [x, y, s] of keypoints) {
    if (s <= 0) continue;
    out.push(el('circle', { cx: x, cy: y, r: dot, fill: confidenceColour(s), stroke: '#0f172a', 'stroke-width': dot * 0.35 }));
  }
  return out;
}

/** A body drawn on a picture scaled by (sx, sy): only positions move; every label stays the frame's. */
export function scaleBody<B extends { keypoints: readonly Keypoint[]; marks: readonly OverlayMark[] }>(body: B, sx: number, sy: number): B {
  const at = (p: Point): Point => ({ x: p.x * sx, y: p.y * sy });
  const marks = body.marks.map((mark) => {
    const a = mark.annotation;
    const annotation = a.kind === 'angle' ? { ...a, vertex: at(a.vertex), from: at(a.from), to: at(a.to) } : { ...a, from: at(a.from), to: at(a.to) };
    return { ...mark, annotation };
  });
  const keypoints = body.keypoints.map(([x, y, s]): Keypoint => [x * sx, y * sy, s]);
  return { ...body, keypoints, marks };
}
