// Overlay pictures (SPEC 6): the skeleton, keypoint confidence and every measured angle drawn where it is measured
// on one frame, with panels saying which frame it is and what the result table reports. What is drawn comes from
// `overlayContent` (overlay-content.ts); this file only lays it out, the body itself drawn as in the overlay video
// (overlay-body.ts). The SVG is built as a string and composited by sharp, so no browser or canvas binary is needed.
import sharp from 'sharp';
import { bodyBox, drawBody, drawingSizes, metricColour, scaleBody, type DrawingSizes } from './overlay-body.ts';
import type { OverlayContent, OverlayGuides, OverlayValue } from './overlay-content.ts';
import { el, FONT, LabelLayer, line, n, overlapArea, textWidth, type Attrs, type Box } from './overlay-labels.ts';

export { confidenceColour } from './overlay-body.ts';
export { escapeXml } from './overlay-labels.ts';

/** Overall score 0-100, in the PDF report's bands: green from 80, amber from 50, red below. */
function scoreColour(score: number): string {
  return score >= 80 ? '#22c55e' : score >= 50 ? '#f59e0b' : '#ef4444';
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

const PLUMB_COLOUR = '#e879f9';

/**
 * A photo's guides, under everything else: a faint square grid whose lines run through the base of support (so
 * the plumb line is one of them and the floor another), and the plumb line rising from the base through the whole
 * picture, which the body is read against.
 */
function drawGuides(guides: OverlayGuides, width: number, height: number, sizes: DrawingSizes, labels: LabelLayer): string[] {
  const cell = Math.max(width, height) / 16;
  const origin = guides.base ?? { x: 0, y: 0 };
  const first = (o: number) => o - Math.floor(o / cell) * cell;
  const d: string[] = [];
  for (let x = first(origin.x); x <= width; x += cell) d.push(`M ${n(x)} 0 V ${height}`);
  for (let y = first(origin.y); y <= height; y += cell) d.push(`M 0 ${n(y)} H ${width}`);
  const out = [el('path', { d: d.join(' '), fill: 'none', stroke: '#64748b', 'stroke-opacity': 0.4, 'stroke-width': Math.max(0.5, 0.75 * sizes.unit), 'data-role': 'grid' })];
  if (guides.base) {
    const top = { x: guides.base.x, y: 0 };
    const bottom = { x: guides.base.x, y: height };
    out.push(
      line(top, bottom, { stroke: '#0f172a', 'stroke-opacity': 0.5, 'stroke-width': sizes.stroke * 1.5 }),
      line(top, bottom, { stroke: PLUMB_COLOUR, 'stroke-width': sizes.stroke * 0.6, 'data-role': 'plumb-line' }),
    );
    labels.besideLine('plumb line', guides.base.x, height - sizes.font * 0.5, PLUMB_COLOUR, { 'data-role': 'plumb-line' });
  }
  return out;
}

/**
 * SVG (same size as the frame) of one overlay's content: on a photo the grid and plumb line, then the skeleton,
 * keypoints coloured by confidence, each metric's angle or distance at the joint where it was measured on this
 * frame (coloured by the frame's sub-score), the title, the frame's panel and the aggregate's panel. Every value
 * text carries `data-section` and `data-measurement`, so what is drawn can be read back. Sizes scale with the image.
 */
export function buildOverlaySvg(width: number, height: number, content: OverlayContent): string {
  const keypoints = content.frame.keypoints;
  const sizes = drawingSizes(width, height);
  const { font } = sizes;
  const body = bodyBox(keypoints, content.confidenceThreshold);
  const labels = new LabelLayer(width, height, font, body);
  // The title goes first so that callouts steer around it; the panels, free to go anywhere, go last.
  const title = labels.fixed(content.title, font * 0.5, font * 0.5, '#f8fafc');
  const guides = content.guides ? drawGuides(content.guides, width, height, sizes, labels) : [];
  const drawn = drawBody(content.frame, content.confidenceThreshold, sizes, labels);

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
  const panelsOut: string[] = [];
  panels.forEach((panel, i) => drawPanel(panel, boxes[i]!, m, panelsOut));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...guides,
    ...drawn,
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
  const base = content.guides?.base;
  const guides = content.guides && { base: base ? { x: base.x * sx, y: base.y * sy } : null };
  return { ...content, frame: scaleBody(content.frame, sx, sy), guides };
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
