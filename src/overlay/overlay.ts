// Overlay pictures (SPEC 6): skeleton, keypoint confidence and every measured angle drawn where it is measured.
// The SVG is built as a string and composited by sharp, so no browser or canvas binary is needed.
import sharp from 'sharp';
import { measurePose, resolveOptions, type EvaluateOptions } from '../posture/evaluate-view.ts';
import type { Point } from '../posture/geometry.ts';
import { KEYPOINT_INDEX, SKELETON_EDGES, normalizeKeypoints, type Keypoint } from '../posture/keypoints.ts';
import type { Annotation, View } from '../posture/profile.ts';

/** The parts of a per-view (or aggregated) result the overlay shows; any PoseEvaluation fits. */
export interface OverlayResult {
  profile: string;
  view: View;
  raw_scores_percent?: Readonly<Record<string, number>>;
  score?: { readonly overall_score: number | null };
}

export interface OverlayOptions {
  pxToCm?: number;
  confidenceThreshold?: number;
  /** Shown in the header instead of "<profile> · <view> view". */
  title?: string;
}

const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function n(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** One SVG element; numbers are rounded to 0.1 px and every string (attribute or text) is escaped. */
function el(tag: string, attrs: Record<string, string | number>, text?: string): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => `${k}="${typeof v === 'number' ? n(v) : escapeXml(v)}"`)
    .join(' ');
  return text === undefined ? `<${tag} ${a}/>` : `<${tag} ${a}>${escapeXml(text)}</${tag}>`;
}

function line(from: Point, to: Point, style: Record<string, string | number>): string {
  return el('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, ...style });
}

/** Red (0) → yellow → green (1): the keypoint's confidence at a glance. */
export function confidenceColour(score: number): string {
  const hue = Math.round(120 * Math.min(1, Math.max(0, score)));
  return `hsl(${hue}, 90%, 50%)`;
}

function metricColour(percent: number | undefined): string {
  if (percent === undefined) return '#38bdf8';
  if (percent >= 100) return '#22c55e';
  if (percent >= 50) return '#f59e0b';
  return '#ef4444';
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Labels as callouts: a dark rounded box in the margin beside the body (left or right, whichever is nearer the
 * joint), joined to its joint by a leader line, so the numbers never hide the joints they describe. Boxes are
 * nudged up or down until they do not cover an earlier one.
 */
class LabelLayer {
  private readonly placed: Box[] = [];
  readonly leaders: string[] = [];
  readonly parts: string[] = [];

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly font: number,
    private readonly body: Box | null,
  ) {}

  private size(text: string): { w: number; h: number; pad: number } {
    const pad = this.font * 0.35;
    // DejaVu Sans averages about 0.6 em per character: enough to size a background box without measuring text.
    return { w: text.length * this.font * 0.6 + 2 * pad, h: this.font + 2 * pad, pad };
  }

  private free(box: Box): boolean {
    return !this.placed.some((p) => overlaps(p, box));
  }

  private draw(text: string, box: Box, pad: number, colour: string): void {
    this.placed.push(box);
    this.parts.push(
      el('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: pad, fill: 'rgba(15,23,42,0.8)', stroke: colour, 'stroke-width': this.font / 10 }),
      el(
        'text',
        {
          x: box.x + box.w / 2,
          y: box.y + box.h / 2,
          'font-family': FONT,
          'font-size': this.font,
          'font-weight': 'bold',
          fill: colour,
          'text-anchor': 'middle',
          'dominant-baseline': 'central',
        },
        text,
      ),
    );
  }

  /** A label pinned at a corner position (the header). */
  fixed(text: string, x: number, y: number, colour: string): void {
    const { w, h, pad } = this.size(text);
    this.draw(text, { x, y, w, h }, pad, colour);
  }

  callout(text: string, anchor: Point, colour: string): void {
    if (!text) return;
    const { w, h, pad } = this.size(text);
    const gap = this.font * 1.5;
    const fitsLeft = this.body !== null && this.body.x - gap - w >= 0;
    const fitsRight = this.body !== null && this.body.x + this.body.w + gap + w <= this.width;
    const centre = this.body ? this.body.x + this.body.w / 2 : anchor.x;
    let side: 'left' | 'right' | null = anchor.x < centre ? 'left' : 'right';
    if (side === 'left' && !fitsLeft) side = fitsRight ? 'right' : null;
    else if (side === 'right' && !fitsRight) side = fitsLeft ? 'left' : null;
    const x =
      side === 'left'
        ? this.body!.x - gap - w
        : side === 'right'
          ? this.body!.x + this.body!.w + gap
          : Math.min(Math.max(0, anchor.x + gap), Math.max(0, this.width - w));
    const clampY = (y: number) => Math.min(Math.max(0, y), Math.max(0, this.height - h));
    let box: Box = { x, y: clampY(anchor.y - h / 2), w, h };
    // Search outward from the joint's height, alternating below and above.
    for (let k = 1; k < 40 && !this.free(box); k++) {
      const step = Math.ceil(k / 2) * h * 1.1 * (k % 2 ? 1 : -1);
      box = { ...box, y: clampY(anchor.y - h / 2 + step) };
    }
    const ex = side === 'right' ? box.x : side === 'left' ? box.x + w : box.x;
    const ey = Math.min(Math.max(anchor.y, box.y + h * 0.2), box.y + h * 0.8);
    const end = { x: ex, y: ey };
    this.leaders.push(
      line(anchor, end, { stroke: '#0f172a', 'stroke-opacity': 0.6, 'stroke-width': this.font / 5 }),
      line(anchor, end, { stroke: colour, 'stroke-width': this.font / 10 }),
      el('circle', { cx: anchor.x, cy: anchor.y, r: this.font / 5, fill: colour }),
    );
    this.draw(text, box, pad, colour);
  }
}

/** Bounding box of the confident keypoints, or null when there are fewer than two. */
function bodyBox(keypoints: readonly Keypoint[], threshold: number): Box | null {
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

function drawAnnotation(
  a: Annotation,
  colour: string,
  sizes: { stroke: number; radius: number },
  keypoints: readonly Keypoint[],
  out: string[],
  labels: LabelLayer,
): void {
  const { stroke, radius } = sizes;
  if (a.kind === 'line') {
    const dash = `${n(stroke * 2.5)} ${n(stroke * 1.5)}`;
    out.push(line(a.from, a.to, { stroke: colour, 'stroke-width': stroke * 0.8, 'stroke-dasharray': dash, 'stroke-linecap': 'round' }));
    if (a.label) labels.callout(a.label, { x: (a.from.x + a.to.x) / 2, y: (a.from.y + a.to.y) / 2 }, colour);
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
  labels.callout(a.label, { x: a.vertex.x + r * Math.cos(mid), y: a.vertex.y + r * Math.sin(mid) }, colour);
}

/**
 * SVG (same size as the frame) with the skeleton, keypoints coloured by confidence and, when a result is given,
 * each metric's angle or distance drawn at the joint where it is measured, coloured by its sub-score.
 * Sizes scale with the image, so the drawing reads the same at 320 px and at 4K.
 */
export function buildOverlaySvg(
  width: number,
  height: number,
  keypoints: readonly Keypoint[],
  result?: OverlayResult,
  options: OverlayOptions = {},
): string {
  const threshold = options.confidenceThreshold ?? 0.3;
  const u = Math.max(width, height) / 640;
  const stroke = Math.max(1.5, 3 * u);
  const dot = Math.max(2.5, 5 * u);
  const font = Math.max(10, 13 * u);
  const radius = Math.max(14, 28 * u);
  const out: string[] = [];
  const labels = new LabelLayer(width, height, font, bodyBox(keypoints, threshold));
  // The header goes first so that callouts steer around it.
  if (result || options.title) {
    const overall = result?.score?.overall_score;
    const scoreText = overall === null || overall === undefined ? '' : ` · score ${overall}`;
    const head = options.title ?? `${result!.profile} · ${result!.view} view${scoreText}`;
    labels.fixed(head, font * 0.5, font * 0.5, '#f8fafc');
  }

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

  if (result) {
    const resolved = resolveOptions({
      profile: result.profile,
      view: result.view,
      pxToCm: options.pxToCm,
      confidenceThreshold: threshold,
    } satisfies EvaluateOptions);
    const measured = measurePose(keypoints, resolved);
    for (const [metric, reading] of measured.readings) {
      const colour = metricColour(result.raw_scores_percent?.[metric]);
      for (const a of reading.annotations) drawAnnotation(a, colour, { stroke, radius }, keypoints, out, labels);
    }
  }

  for (const [x, y, s] of keypoints) {
    if (s <= 0) continue;
    out.push(el('circle', { cx: x, cy: y, r: dot, fill: confidenceColour(s), stroke: '#0f172a', 'stroke-width': dot * 0.35 }));
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...out,
    ...labels.leaders,
    ...labels.parts,
    '</svg>',
  ].join('\n');
}

/**
 * Draws the overlay on a JPEG/PNG/WebP frame and returns a PNG. The image is turned upright by its EXIF
 * orientation first, the coordinate frame pose models see when frames are decoded with sharp.
 * @param keypoints any shape `normalizeKeypoints` accepts
 */
export async function renderOverlayPng(
  image: Buffer,
  keypoints: unknown,
  result?: OverlayResult,
  options: OverlayOptions = {},
): Promise<Buffer> {
  const points = normalizeKeypoints(keypoints);
  const meta = await sharp(image).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const width = (swap ? meta.height : meta.width) ?? 0;
  const height = (swap ? meta.width : meta.height) ?? 0;
  if (!width || !height) throw new Error('overlay: image has no dimensions');
  const svg = buildOverlaySvg(width, height, points, result, options);
  return sharp(image)
    .rotate()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}
