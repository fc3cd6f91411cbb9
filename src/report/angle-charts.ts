// Angles over time: one chart per view, drawn by ECharts in its server-side SVG mode (no DOM) and rasterised with
// sharp for the PDF. Small multiples, one panel per measured angle on a shared time axis, so every panel can shade
// its own normal range; frames without a measurement break the line and are shaded, never bridged.
import { LineChart } from 'echarts/charts';
import { GridComponent, MarkAreaComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import sharp from 'sharp';
import type { DetailedResult } from '../analysis/view-analysis.ts';
import { bandFor, measurementNames, metricsForView, VIEWS } from '../posture/profile.ts';
import { getProfile } from '../posture/profiles.ts';
import { formatRange, round, type Band } from '../posture/scoring.ts';

export interface AngleChart {
  view: string;
  svg: string;
  /** The measurement names drawn, one panel each, top to bottom. */
  series: string[];
}

interface Panel {
  name: string;
  title: string;
  source: string;
  band: Band;
  /** [seconds, degrees or null] per analysed frame, in frame order. */
  points: [number, number | null][];
}

const FONT = 'DejaVu Sans';
const INK = '#1f2933';
const MUTED = '#667085';
const LINE = '#2563eb';
const NORMAL_FILL = 'rgba(22, 163, 74, 0.14)';
const GAP_FILL = 'rgba(102, 112, 133, 0.16)';
const HEADER = 52;
const PANEL_TITLE = 38;
const PLOT = 96;
const PANEL_GAP = 14;
const AXIS_FOOTER = 44;
const LEFT = 56;
const RIGHT = 20;

/**
 * The chart of every angle of the view's profile measured in at least one frame; null for a photo or when no angle
 * was measured. Same input, same bytes: no animation, and ECharts' per-instance ids are replaced by the view's name.
 */
export function angleChartSvg(detailed: DetailedResult, options: { width?: number } = {}): AngleChart | null {
  if (detailed.file_type === 'image') return null;
  const panels = anglePanels(detailed);
  if (panels.length === 0) return null;
  const width = options.width ?? 800;
  const height = HEADER + panels.length * (PANEL_TITLE + PLOT + PANEL_GAP) - PANEL_GAP + AXIS_FOOTER;
  // Only the parts drawn here: loading them takes a third of the time of the whole library. Registering is idempotent.
  echarts.use([LineChart, GridComponent, MarkAreaComponent, TitleComponent, SVGRenderer]);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(chartOption(detailed.view, panels, width));
    const svg = stableIds(chart.renderToSVGString(), `angles-${detailed.view}`);
    return { view: detailed.view, svg, series: panels.map((p) => p.name) };
  } finally {
    chart.dispose();
  }
}

/**
 * ECharts numbers its renderers and CSS classes with process-wide counters, so the same chart drawn twice differs.
 * Renaming them in order of appearance, under a prefix per view, gives the same bytes and keeps the clip-path ids of
 * two views' charts on one page apart.
 */
function stableIds(svg: string, prefix: string): string {
  const classes = new Map<string, string>();
  return svg
    .replace(/\bzr\d+-cls-\d+\b/g, (id) => {
      if (!classes.has(id)) classes.set(id, `${prefix}-cls-${classes.size}`);
      return classes.get(id)!;
    })
    .replace(/\bzr\d+-/g, `${prefix}-`);
}

/** The chart as a palette PNG of the given width (default: the SVG's own), small enough to embed in a PDF. */
export async function chartPng(svg: string, options: { width?: number } = {}): Promise<Buffer> {
  const input = Buffer.from(svg);
  const own = (await sharp(input).metadata()).width;
  const width = options.width ?? own;
  return sharp(input, { density: (72 * width) / own })
    .resize({ width })
    .flatten({ background: '#ffffff' })
    .png({ palette: true, compressionLevel: 9 })
    .toBuffer();
}

function anglePanels(detailed: DetailedResult): Panel[] {
  const view = VIEWS.find((v) => v === detailed.view);
  if (!view) return [];
  const mode = detailed.aggregated_results.posture_mode;
  const panels: Panel[] = [];
  for (const metric of metricsForView(getProfile(detailed.profile), view)) {
    if (metric.units !== '°') continue;
    const band = bandFor(metric, mode);
    for (const name of measurementNames(metric)) {
      const points = detailed.frames_data.map((f): [number, number | null] => [f.timestamp, f.measurements?.[name] ?? null]);
      if (points.every(([, v]) => v === null)) continue;
      const part = name === metric.name ? '' : ` (${name.slice(metric.name.length + 1)})`;
      panels.push({
        name,
        title: `${metric.label}${part} °, normal ${formatRange(band, '°')}`,
        source: shortSource(metric.source),
        band,
        points,
      });
    }
  }
  return panels;
}

/**
 * "Kendall FP, … 2005 (…); ANSI/HFES 100-2007, …" → "Kendall 2005; ANSI/HFES 2007": first word and year of each
 * citation; a source citing no year is named by its opening words ("Postura studio contract").
 */
function shortSource(source: string): string {
  const cited = source.split('; ').flatMap((part) => {
    const year = /\b(?:19|20)\d\d\b/.exec(part)?.[0];
    return year ? [`${part.split(/[\s,]/)[0]} ${year}`] : [];
  });
  return cited.length > 0 ? [...new Set(cited)].join('; ') : source.split(/[(,.:;]/)[0]!.trim();
}

function chartOption(view: string, panels: readonly Panel[], width: number): echarts.EChartsCoreOption {
  const times = panels[0]!.points.map(([t]) => t);
  const start = Math.min(...times);
  const end = Math.max(start + 1e-3, ...times);
  const top = (i: number): number => HEADER + i * (PANEL_TITLE + PLOT + PANEL_GAP);
  const last = panels.length - 1;
  return {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: FONT, fontSize: 12, color: INK },
    title: [
      {
        text: `Angles over time, ${view} view`,
        subtext: 'green: normal range · grey: no measurement',
        left: LEFT - 8,
        top: 8,
        itemGap: 4,
        padding: 0,
        textStyle: { fontFamily: FONT, fontSize: 15, color: INK },
        subtextStyle: { fontFamily: FONT, fontSize: 11, color: MUTED },
      },
      ...panels.map((p, i) => ({
        text: p.title,
        subtext: p.source,
        left: LEFT,
        top: top(i),
        itemGap: 3,
        padding: 0,
        textStyle: { fontFamily: FONT, fontSize: 13, fontWeight: 'bold', color: INK },
        subtextStyle: { fontFamily: FONT, fontSize: 11, color: MUTED },
      })),
    ],
    grid: panels.map((_, i) => ({ left: LEFT, right: RIGHT, top: top(i) + PANEL_TITLE, height: PLOT, outerBoundsMode: 'none' })),
    xAxis: panels.map((_, i) => ({
      type: 'value',
      gridIndex: i,
      min: start,
      max: end,
      splitNumber: Math.max(2, Math.round(width / 100)),
      axisLabel: { show: i === last, fontFamily: FONT, color: MUTED, formatter: (v: number) => String(round(v, 1)) },
      axisTick: { show: i === last },
      // Along the bottom of each panel, not through 0°, which would cut across angles like a tilt.
      axisLine: { onZero: false },
      splitLine: { lineStyle: { color: '#eef0f3' } },
      ...(i === last ? { name: 'Time (s)', nameLocation: 'middle', nameGap: 26, nameTextStyle: { fontFamily: FONT, color: MUTED } } : {}),
    })),
    yAxis: panels.map((p, i) => ({
      type: 'value',
      gridIndex: i,
      ...yRange(p),
      axisLabel: { fontFamily: FONT, color: MUTED, formatter: (v: number) => `${round(v, 1)}°` },
      splitLine: { lineStyle: { color: '#eef0f3' } },
    })),
    series: panels.map((p, i) => seriesOption(p, i, yRange(p))),
  };
}

/** Axis bounds on a round step that hold every value and the finite ends of the normal range. */
function yRange(panel: Panel): { min: number; max: number; interval: number } {
  const values = panel.points.flatMap(([, v]) => (v === null ? [] : [v]));
  const ends = [panel.band.idealMin, panel.band.idealMax].filter(Number.isFinite);
  // At least 10° tall: keypoint noise moves angles by a few degrees, which must not look like a swing.
  const middle = (Math.min(...values, ...ends) + Math.max(...values, ...ends)) / 2;
  const lo = Math.min(...values, ...ends, middle - 5);
  const hi = Math.max(...values, ...ends, middle + 5);
  const interval = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90].find((s) => s * 3 >= hi - lo) ?? 90;
  return { min: Math.floor(lo / interval) * interval, max: Math.ceil(hi / interval) * interval, interval };
}

function seriesOption(panel: Panel, index: number, range: { min: number; max: number }): echarts.EChartsCoreOption {
  const clamp = (v: number): number => Math.min(range.max, Math.max(range.min, v));
  const normal = [{ yAxis: clamp(panel.band.idealMin), itemStyle: { color: NORMAL_FILL } }, { yAxis: clamp(panel.band.idealMax) }];
  const gaps = gapStretches(panel.points).map(([from, to]) => [{ xAxis: from, itemStyle: { color: GAP_FILL } }, { xAxis: to }]);
  return {
    type: 'line',
    name: panel.name,
    xAxisIndex: index,
    yAxisIndex: index,
    connectNulls: false,
    // A frame measured between two gaps has no neighbour to draw a segment to: a dot keeps it visible.
    symbol: 'none',
    data: panel.points.map((point, i) =>
      point[1] !== null && isolated(panel.points, i) ? { value: point, symbol: 'circle', symbolSize: 4 } : point,
    ),
    lineStyle: { color: LINE, width: 1.6 },
    itemStyle: { color: LINE },
    silent: true,
    markArea: { silent: true, label: { show: false }, data: [normal, ...gaps] },
  };
}

function isolated(points: readonly [number, number | null][], i: number): boolean {
  return (points[i - 1]?.[1] ?? null) === null && (points[i + 1]?.[1] ?? null) === null;
}

/** Time spans the line does not cover: from the last measured frame before a run of gaps to the first one after. */
function gapStretches(points: readonly [number, number | null][]): [number, number][] {
  const stretches: [number, number][] = [];
  let i = 0;
  while (i < points.length) {
    if (points[i]![1] !== null) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < points.length && points[j + 1]![1] === null) j++;
    stretches.push([points[Math.max(0, i - 1)]![0], points[Math.min(points.length - 1, j + 1)]![0]]);
    i = j + 1;
  }
  return stretches;
}
