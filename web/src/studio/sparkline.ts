// A score trend as a small inline SVG (no chart library for one line): 0-100 on the vertical axis, one point per
// assessment, oldest left. Its label carries the numbers for screen readers.
import { svg } from '../dom.ts';

export function sparkline(scores: readonly number[], label: string): SVGSVGElement {
  const width = 120;
  const height = 32;
  const pad = 3;
  const x = (i: number) => (scores.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (scores.length - 1));
  const y = (score: number) => height - pad - (Math.max(0, Math.min(100, score)) / 100) * (height - 2 * pad);
  const points = scores.map((s, i) => `${x(i).toFixed(1)},${y(s).toFixed(1)}`).join(' ');
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'sparkline', role: 'img', 'aria-label': `${label}: ${scores.join(', ')}` },
    svg('line', { x1: pad, x2: width - pad, y1: y(90), y2: y(90), class: 'sparkline-good' }),
    svg('polyline', { points, class: 'sparkline-line' }),
    ...scores.map((s, i) => svg('circle', { cx: x(i).toFixed(1), cy: y(s).toFixed(1), r: 2.5, class: 'sparkline-dot' })));
}
