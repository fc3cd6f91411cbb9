// SVG text primitives for the overlay: escaped elements and the callout layer that keeps labels off the body.
import type { Point } from '../posture/geometry.ts';

export const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function n(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

export type Attrs = Record<string, string | number>;

/** One SVG element; numbers are rounded to 0.1 px and every string (attribute or text) is escaped. */
export function el(tag: string, attrs: Attrs, text?: string): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => `${k}="${typeof v === 'number' ? n(v) : escapeXml(v)}"`)
    .join(' ');
  return text === undefined ? `<${tag} ${a}/>` : `<${tag} ${a}>${escapeXml(text)}</${tag}>`;
}

export function line(from: Point, to: Point, style: Attrs): string {
  return el('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, ...style });
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function overlapArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Width of a text line without measuring it: DejaVu Sans averages about 0.6 em per character, bold about 0.68. */
export function textWidth(text: string, font: number, bold = false): number {
  return text.length * font * (bold ? 0.68 : 0.6);
}

/**
 * Labels as callouts: a dark rounded box in the margin beside the body (left or right, whichever is nearer the
 * joint), joined to its joint by a leader line, so the numbers never hide the joints they describe. Boxes are
 * nudged up or down until they do not cover an earlier one.
 */
export class LabelLayer {
  private readonly placed: Box[] = [];
  readonly leaders: string[] = [];
  readonly parts: string[] = [];

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly font: number,
    private readonly body: Box | null,
  ) {}

  private size(text: string, font = this.font): { w: number; h: number; pad: number } {
    const pad = font * 0.35;
    return { w: textWidth(text, font, true) + 2 * pad, h: font + 2 * pad, pad };
  }

  private free(box: Box): boolean {
    return !this.placed.some((p) => overlapArea(p, box) > 0);
  }

  /** The boxes placed so far (title and callouts), for whatever is laid out after them. */
  boxes(): readonly Box[] {
    return this.placed;
  }

  private draw(text: string, box: Box, pad: number, colour: string, data: Attrs, font = this.font): void {
    this.placed.push(box);
    this.parts.push(
      el('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: pad, fill: 'rgba(15,23,42,0.8)', stroke: colour, 'stroke-width': font / 10 }),
      el(
        'text',
        {
          x: box.x + box.w / 2,
          y: box.y + box.h / 2,
          'font-family': FONT,
          'font-size': font,
          'font-weight': 'bold',
          fill: colour,
          'text-anchor': 'middle',
          'dominant-baseline': 'central',
          ...data,
        },
        text,
      ),
    );
  }

  /** A label pinned at a position (the title), its font shrunk to fit a narrow picture; returns its box. */
  fixed(text: string, x: number, y: number, colour: string, data: Attrs = { 'data-role': 'title' }): Box {
    const fit = (this.width - 2 * x) / (textWidth(text, 1, true) + 0.7);
    const font = Math.max(6, Math.min(this.font, fit));
    const { w, h, pad } = this.size(text, font);
    const box = { x, y, w, h };
    this.draw(text, box, pad, colour, data, font);
    return box;
  }

  /** A label beside a vertical line at x, its box ending at `bottom`: right of the line, or left where there is no room. */
  besideLine(text: string, x: number, bottom: number, colour: string, data: Attrs): Box {
    const { w, h, pad } = this.size(text);
    const gap = this.font * 0.4;
    const left = x + gap + w <= this.width ? x + gap : Math.max(0, x - gap - w);
    const box = { x: left, y: Math.max(0, bottom - h), w, h };
    this.draw(text, box, pad, colour, data);
    return box;
  }

  callout(text: string, anchor: Point, colour: string, data: Attrs = {}): void {
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
    this.draw(text, box, pad, colour, data);
  }
}
