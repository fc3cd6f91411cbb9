// Overlay pictures (SPEC 6): the skeleton, keypoint confidence and every measured angle drawn where it is measured
// on one frame, with panels saying which frame it is and what the result table reports. What is drawn comes from
// `overlayContent` (overlay-content.ts); this file only lays it out. The SVG is built as a string and composited
// by sharp, so no browser or canvas binary is needed.
import sharp from 'sharp';
import type { Point } from '../posture/geometry.ts';
import { KEYPOINT_INDEX, SKELETON_EDGES, type Keypoint } from '../posture/keypoints.ts';
import type { OverlayContent, OverlayMark, OverlayValue } from './overlay-content.ts';
import { el, FONT, LabelLayer, line, n, overlapArea, textWidth, type Attrs, type Box } from './overlay-labels.ts';

export { escapeXml } from './overlay-labels.ts';

/** Red (0) → yellow → green (1): the keypoint's confidence at a glance. */
export function confidenceColour(score: number): string {
  const hue = Math.round(120 * Math.min(1, Math.max(0, score)));
  return `hsl(${hue}, 90%, 50%)`;
}

/** Overall score 0-100, in the PDF report's bands: green from 80, amber from 50, red below. */
function scoreColour(score: number): string {
  return score >= 80 ? '#22c55e' : score >= 50 ? '#f59e0b' : '#ef4444';
}

function metricColour(percent: number | undefined | null): string {
  if (percent === undefined || percent === null) return '#38bdf8';
  if (percent >= 100) return '#22c55e';
  if (percent >= 50) return '#f59e0b';
  return '#ef4444';
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

function drawMark(
  mark: OverlayMark,
  sizes: { stroke: number; radius: number },
  keypoints: readonly Keypoint[],
  out: string[],
  labels: LabelLayer,
): void {
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

type Section = 'frame' | 'aggregate' | 'photo';

interface Panel {
  section: Section;
  heading: string;
  note: string;
  values: readonly OverlayValue[];
  score: number | null;
  accent: string;
  fill: string;
}

const FRAME_FILL = 'rgba(15,23,42,0.82)';
const AGGREGATE_FILL = 'rgba(8,47,73,0.88)';

/** The frame's panel and, apart from it, the aggregate's; a photo whose result is its frame gets one panel. */
function panelsOf(content: OverlayContent): Panel[] {
  const { frame, aggregate } = content;
  if (content.photo) {
    return [{ section: 'photo', heading: frame.heading, note: `${frame.note} = the result`, values: frame.values, score: frame.score, accent: '#f8fafc', fill: FRAME_FILL }];
  }
  return [
    { section: 'frame', ...frame, accent: '#f8fafc', fill: FRAME_FILL },
    { section: 'aggregate', ...aggregate, accent: '#38bdf8', fill: AGGREGATE_FILL },
  ];
}

interface PanelMetrics {
  font: number;
  pad: number;
  row: number;
}

function panelSize(panel: Panel, m: PanelMetrics): { w: number; h: number } {
  const rows = panel.values.map((v) => textWidth(`${v.label}  `, m.font) + textWidth(v.text, m.font, true));
  const w = Math.max(textWidth(panel.heading, m.font, true), textWidth(panel.note, m.font * 0.85), ...rows, textWidth('score 100', m.font)) + 2 * m.pad;
  const lines = 2 + panel.values.length + (panel.score === null ? 0 : 1);
  return { w, h: lines * m.row + 2 * m.pad + m.pad / 2 };
}

/**
 * Where the panels go: together (stacked, or side by side) at the place that covers least of the title, the
 * callouts and the body, nearest a corner on a tie. Candidates are a grid over the image plus the places just
 * below the title and beside the body. The image keeps its size, so on a crowded picture the panels do cover
 * something: then the least of it.
 */
function placePanels(
  sizes: readonly { w: number; h: number }[],
  frame: { width: number; height: number; gap: number; title: Box; body: Box | null },
  avoid: readonly { box: Box; weight: number }[],
): Box[] {
  const { width, height, gap, title, body } = frame;
  let best: { cost: number; boxes: Box[] } | undefined;
  const steps = 8;
  const grid = (span: number) => Array.from({ length: steps + 1 }, (_, i) => gap + (span * i) / steps);
  for (const stacked of [true, false]) {
    const w = stacked ? Math.max(...sizes.map((s) => s.w)) : sizes.reduce((t, s) => t + s.w, 0) + gap * (sizes.length - 1);
    const h = stacked ? sizes.reduce((t, s) => t + s.h, 0) + gap * (sizes.length - 1) : Math.max(...sizes.map((s) => s.h));
    const xs = [...grid(width - w - 2 * gap).reverse(), ...(body ? [body.x + body.w + gap, body.x - gap - w] : [])]; // right first
    const ys = [...grid(height - h - 2 * gap), title.y + title.h + gap]; // top first
    for (const x of xs.map((v) => Math.min(Math.max(0, v), Math.max(0, width - w)))) {
      for (const y of ys.map((v) => Math.min(Math.max(0, v), Math.max(0, height - h)))) {
        const group = { x, y, w, h };
        const outside = w * h - overlapArea(group, { x: 0, y: 0, w: width, h: height });
        const corner = (Math.min(x, width - x - w) + Math.min(y, height - y - h)) / (width + height); // 0 in a corner
        const cost = avoid.reduce((t, a) => t + a.weight * overlapArea(group, a.box), 0) + 100 * outside + corner;
        if (best && cost >= best.cost) continue;
        let at = 0;
        const boxes = sizes.map((s) => {
          const box = stacked ? { x, y: y + at, w, h: s.h } : { x: x + at, y, w: s.w, h };
          at += (stacked ? s.h : s.w) + gap;
          return box;
        });
        best = { cost, boxes };
      }
    }
  }
  return best?.boxes ?? [];
}

function drawPanel(panel: Panel, box: Box, m: PanelMetrics, out: string[]): void {
  const { font, pad, row } = m;
  const text = (attrs: Attrs, content: string) =>
    el('text', { 'font-family': FONT, 'font-size': font, 'dominant-baseline': 'central', ...attrs }, content);
  const rule = box.y + pad + 2 * row + pad / 4;
  out.push(
    el('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: pad, fill: panel.fill, stroke: panel.accent, 'stroke-width': Math.max(1, font / 8) }),
    text({ x: box.x + pad, y: box.y + pad + row / 2, 'font-weight': 'bold', fill: panel.accent, 'data-section': panel.section, 'data-role': 'heading' }, panel.heading),
    text({ x: box.x + pad, y: box.y + pad + row * 1.5, 'font-size': Math.max(9, font * 0.85), fill: '#cbd5e1', 'data-section': panel.section, 'data-role': 'note' }, panel.note),
    line({ x: box.x + pad, y: rule }, { x: box.x + box.w - pad, y: rule }, { stroke: panel.accent, 'stroke-opacity': 0.5, 'stroke-width': Math.max(0.5, font / 14) }),
  );
  let y = rule + pad / 4 + row / 2;
  const right = box.x + box.w - pad;
  for (const v of panel.values) {
    out.push(
      text({ x: box.x + pad, y, fill: '#e2e8f0' }, v.label),
      text({ x: right, y, 'text-anchor': 'end', 'font-weight': 'bold', fill: metricColour(v.percent), 'data-section': panel.section, 'data-measurement': v.name }, v.text),
    );
    y += row;
  }
  if (panel.score !== null) {
    out.push(
      text({ x: box.x + pad, y, fill: '#e2e8f0', 'font-weight': 'bold' }, 'score'),
      text({ x: right, y, 'text-anchor': 'end', 'font-weight': 'bold', fill: scoreColour(panel.score), 'data-section': panel.section, 'data-score': 'overall' }, String(panel.score)),
    );
  }
}

/**
 * SVG (same size as the frame) of one overlay's content: the skeleton, keypoints coloured by confidence, each
 * metric's angle or distance at the joint where it was measured on this frame (coloured by the frame's sub-score),
 * the title, the frame's panel and the aggregate's panel. Every value text carries `data-section` and
 * `data-measurement`, so what is drawn can be read back. Sizes scale with the image, so the drawing reads the
 * same at 320 px and at 4K.
 */
export function buildOverlaySvg(width: number, height: number, content: OverlayContent): string {
  const keypoints = content.frame.keypoints;
  const threshold = content.confidenceThreshold;
  const u = Math.max(width, height) / 640;
  const stroke = Math.max(1.5, 3 * u);
  const dot = Math.max(2.5, 5 * u);
  const font = Math.max(10, 13 * u);
  const radius = Math.max(14, 28 * u);
  const out: string[] = [];
  const panelsOut: string[] = [];
  const body = bodyBox(keypoints, threshold);
  const labels = new LabelLayer(width, height, font, body);
  // The title goes first so that callouts steer around it; the panels, free to go anywhere, go last.
  const title = labels.fixed(content.title, font * 0.5, font * 0.5, '#f8fafc');

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

  for (const mark of content.frame.marks) drawMark(mark, { stroke, radius }, keypoints, out, labels);

  // Panels read at a glance at a slightly smaller size than the callouts, which must hold their own on the body.
  const pf = Math.max(10, font * 0.75);
  const m: PanelMetrics = { font: pf, pad: pf * 0.6, row: pf * 1.45 };
  const panels = panelsOf(content);
  const gap = font * 0.5;
  const around = body ? { x: body.x - font, y: body.y - font, w: body.w + 2 * font, h: body.h + 2 * font } : null;
  const avoid = [
    { box: title, weight: 100 },
    ...labels.boxes().map((box) => ({ box, weight: 20 })),
    ...(around ? [{ box: around, weight: 20 }] : []),
  ];
  const boxes = placePanels(panels.map((p) => panelSize(p, m)), { width, height, gap, title, body: around }, avoid);
  panels.forEach((panel, i) => drawPanel(panel, boxes[i]!, m, panelsOut));

  for (const [x, y, s] of keypoints) {
    if (s <= 0) continue;
    out.push(el('circle', { cx: x, cy: y, r: dot, fill: confidenceColour(s), stroke: '#0f172a', 'stroke-width': dot * 0.35 }));
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...out,
    ...labels.leaders,
    ...labels.parts,
    ...panelsOut,
    '</svg>',
  ].join('\n');
}

/**
 * Longest side of an overlay picture, in px. The picture is a view of the analysis, not an archive of the upload:
 * 2048 px reads sharp on any screen and in the PDF, while a 12000 px source drawn at its own size cost gigabytes.
 */
export const OVERLAY_MAX_SIDE = 2048;

export interface RenderOverlayOptions {
  /** Default `OVERLAY_MAX_SIDE`. */
  maxSide?: number;
}

/** Content drawn on a picture scaled by (sx, sy): only positions move; every value and label stays the frame's. */
export function scaleOverlayContent(content: OverlayContent, sx: number, sy: number): OverlayContent {
  const at = (p: Point): Point => ({ x: p.x * sx, y: p.y * sy });
  const marks = content.frame.marks.map((mark) => {
    const a = mark.annotation;
    const annotation = a.kind === 'angle' ? { ...a, vertex: at(a.vertex), from: at(a.from), to: at(a.to) } : { ...a, from: at(a.from), to: at(a.to) };
    return { ...mark, annotation };
  });
  const keypoints = content.frame.keypoints.map(([x, y, s]): Keypoint => [x * sx, y * sy, s]);
  return { ...content, frame: { ...content.frame, keypoints, marks } };
}

/**
 * Draws an overlay's content on its frame's picture (JPEG/PNG/WebP) and returns a PNG: the picture's size, or
 * scaled down so that its longest side is `maxSide`, with the keypoints and marks scaled alike. The image is turned
 * upright by its EXIF orientation first, the coordinate frame pose models see when frames are decoded with sharp.
 */
export async function renderOverlayPng(image: Buffer, content: OverlayContent, options: RenderOverlayOptions = {}): Promise<Buffer> {
  const maxSide = options.maxSide ?? OVERLAY_MAX_SIDE;
  // No pixel bound of its own: the analysis decoders refused anything over MAX_IMAGE_PIXELS before an overlay is
  // drawn, and sharp's default input limit still stands behind that.
  const meta = await sharp(image).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const width = (swap ? meta.height : meta.width) ?? 0;
  const height = (swap ? meta.width : meta.height) ?? 0;
  if (!width || !height) throw new Error('overlay: image has no dimensions');
  const factor = Math.min(1, maxSide / Math.max(width, height));
  const outWidth = Math.max(1, Math.round(width * factor));
  const outHeight = Math.max(1, Math.round(height * factor));
  const scaled = factor < 1 ? scaleOverlayContent(content, outWidth / width, outHeight / height) : content;
  const svg = buildOverlaySvg(outWidth, outHeight, scaled);
  // Resizing in the same pipeline lets libvips shrink a JPEG while decoding it: the full raster never exists.
  let pipeline = sharp(image).rotate();
  if (factor < 1) pipeline = pipeline.resize(outWidth, outHeight, { fit: 'fill' });
  return pipeline.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).png().toBuffer();
}
