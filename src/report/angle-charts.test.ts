import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildDetailedResult, type DetailedResult } from '../analysis/view-analysis.ts';
import type { MediaInfo, PoseFrame } from '../pose/analyze-media.ts';
import { at, frontPose, rightFacingPose, toList, withScore } from '../posture/pose-fixtures.test-helper.ts';
import { angleChartSvg, chartPng } from './angle-charts.ts';

const FRAMES = 120;
const STANCE_SIDE = ['knee_angle', 'head_tilt', 'arm_angle', 'arm_bent_angle', 'back_angle'];

function mediaInfo(fileType: 'image' | 'video', frames: number): MediaInfo {
  return {
    fileType, format: fileType === 'image' ? 'jpeg' : 'mp4', width: 1000, height: 700, fps: 30, totalFrames: 2 * frames,
    frameStep: 2, duration: (2 * frames) / 30, rotation: 0,
  } as MediaInfo;
}

/**
 * Every second frame of a 30 fps side-view clip, ankle and wrist swinging: the subject is gone for frames 40–54 (a
 * gap in every angle) and the wrist is unseen for frames 80–95 (a gap in the arm angles only). Both last over a
 * second, longer than the track filter bridges.
 */
function sideClip(profile = 'stance', frames = FRAMES): DetailedResult {
  const poses = Array.from({ length: frames }, (_, i): PoseFrame => {
    const timestamp = Math.round(((2 * i) / 30) * 1000) / 1000;
    let pose = at(rightFacingPose(), 'right_ankle', 340 + 30 * Math.sin(i / 6), 580);
    pose = at(pose, 'right_wrist', 600, 300 + 40 * Math.sin(i / 9));
    if (i >= 80 && i < 96) pose = withScore(pose, 'right_wrist', 0.05);
    return { frame_index: 2 * i, timestamp, keypoints: i >= 40 && i < 55 ? null : toList(pose), box: null, score: 0.9 };
  });
  return buildDetailedResult(mediaInfo('video', frames), poses, { model: 'cx', view: 'right', profile });
}

type Point = [number, number];

interface Panel {
  top: number;
  bottom: number;
  /** The line's pieces (one per move-to), in drawing order. */
  pieces: Point[][];
  /** Degrees at a y coordinate, read from the panel's own axis labels. */
  degrees(y: number): number;
}

/**
 * The panels as drawn: ECharts puts each line series in a group clipped to its grid, so every clip group is one
 * series; its y axis is fitted from the "N°" labels beside the clip rectangle.
 */
function drawnPanels(svg: string): Panel[] {
  const clips = new Map(
    [...svg.matchAll(/<clipPath id="([^"]+)">\s*<path d="M[\d.]+ ([\d.]+)l[\d.]+ 0l0 ([\d.]+)/g)].map(([, id, y, h]) => [id!, [Number(y), Number(y) + Number(h)]]),
  );
  const labels = [...svg.matchAll(/translate\([\d.]+ ([\d.]+)\)"[^>]*>(-?\d+)°<\/text>/g)].map(([, y, v]) => [Number(y), Number(v)] as Point);
  return [...svg.matchAll(/<g clip-path="url\(#([^)]+)\)">\s*<path d="([^"]+)"/g)].map(([, clip, d]) => {
    const [top, bottom] = clips.get(clip!)!;
    const axis = labels.filter(([y]) => y >= top! && y <= bottom!).sort((a, b) => a[0] - b[0]);
    const [[y0, v0], [y1, v1]] = [axis[0]!, axis.at(-1)!];
    const pieces = d!.split('M').filter(Boolean).map((piece) => piece.split('L').map((p) => p.trim().split(' ').map(Number) as Point));
    return { top: top!, bottom: bottom!, pieces, degrees: (y: number) => v0 + ((y - y0) * (v1 - v0)) / (y1 - y0) };
  });
}

/** Runs of consecutive frames where `name` was measured, as [first, last] frame positions. */
function measuredRuns(result: DetailedResult, name: string): [number, number][] {
  const runs: [number, number][] = [];
  result.frames_data.forEach((f, i) => {
    if (f.measurements?.[name] === undefined) return;
    const last = runs.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  });
  return runs;
}

function polygons(svg: string): { xs: number[]; ys: number[]; fill: string }[] {
  return [...svg.matchAll(/<polygon points="([^"]+)" fill="([^"]+)"/g)].map(([, points, fill]) => {
    const n = points!.split(' ').map(Number);
    return { xs: n.filter((_, i) => i % 2 === 0), ys: n.filter((_, i) => i % 2 === 1), fill: fill! };
  });
}

describe('angleChartSvg', () => {
  const clip = sideClip();
  const chart = angleChartSvg(clip)!;
  const panels = drawnPanels(chart.svg);

  it('draws one line per measured angle, in its own panel, through the measured values', () => {
    expect(chart.view).toBe('right');
    expect(chart.series).toEqual(STANCE_SIDE);
    expect(panels).toHaveLength(STANCE_SIDE.length);
    panels.forEach((panel, i) => {
      if (i > 0) expect(panel.top).toBeGreaterThan(panels[i - 1]!.bottom);
      const values = clip.frames_data.flatMap((f) => (f.measurements?.[STANCE_SIDE[i]!] === undefined ? [] : [f.measurements[STANCE_SIDE[i]!]!]));
      const drawn = panel.pieces.flat();
      expect(drawn).toHaveLength(values.length);
      drawn.forEach(([, y], k) => expect(panel.degrees(y)).toBeCloseTo(values[k]!, 0));
    });
  });

  it('breaks each line where its angle was not measured, leaving the time between the pieces empty', () => {
    expect(measuredRuns(clip, 'knee_angle')).toEqual([[0, 39], [55, 119]]);
    expect(measuredRuns(clip, 'arm_angle')).toEqual([[0, 39], [55, 79], [96, 119]]);
    const t = clip.frames_data.map((f) => f.timestamp);
    panels.forEach((panel, i) => {
      const runs = measuredRuns(clip, STANCE_SIDE[i]!);
      expect(panel.pieces.map((p) => p.length)).toEqual(runs.map(([a, b]) => b - a + 1));
      // x is proportional to time: each piece starts and ends at its run's first and last frame.
      const [x0, x1] = [panel.pieces[0]![0]![0], panel.pieces.at(-1)!.at(-1)![0]];
      const x = (frame: number) => x0 + ((t[frame]! - t[0]!) / (t.at(-1)! - t[0]!)) * (x1 - x0);
      panel.pieces.forEach((piece, k) => {
        expect(piece[0]![0]).toBeCloseTo(x(runs[k]![0]), 0);
        expect(piece.at(-1)![0]).toBeCloseTo(x(runs[k]![1]), 0);
      });
    });
  });

  it('shades each panel\'s normal range and its gaps in different colours', () => {
    const shaded = polygons(chart.svg);
    const [knee, arm] = [panels[0]!, panels[2]!];
    const kneeLine = knee.pieces.flat();
    const [left, right] = [kneeLine[0]![0], kneeLine.at(-1)![0]];
    const inKnee = shaded.filter((p) => Math.min(...p.ys) >= knee.top && Math.max(...p.ys) <= knee.bottom);
    const normal = inKnee.find((p) => Math.min(...p.xs) === left && Math.max(...p.xs) === right)!;
    expect([knee.degrees(Math.max(...normal.ys)), knee.degrees(Math.min(...normal.ys))].map(Math.round)).toEqual([150, 170]);
    // The gap runs from the last frame before it to the first after it: where the line stops and starts again.
    const gaps = (panel: Panel) =>
      shaded.filter((p) => p.fill !== normal.fill && Math.min(...p.ys) >= panel.top && Math.max(...p.ys) <= panel.bottom)
        .map((p) => [Math.min(...p.xs), Math.max(...p.xs)]);
    const ends = (panel: Panel) => panel.pieces.slice(1).map((piece, k) => [panel.pieces[k]!.at(-1)![0], piece[0]![0]]);
    expect(gaps(knee)).toHaveLength(1);
    expect(gaps(arm)).toHaveLength(2);
    for (const panel of [knee, arm]) gaps(panel).forEach((g, k) => g.forEach((x, j) => expect(x).toBeCloseTo(ends(panel)[k]![j]!, 0)));
  });

  it('names each panel with its label, units, normal range and source', () => {
    const texts = [...chart.svg.matchAll(/>([^<>]+)<\/text>/g)].map(([, text]) => text);
    expect(texts).toEqual(expect.arrayContaining(['Knee angle °, normal 150 to 170°', 'Elbow bend °, normal 10 to 40°', 'Postura studio contract']));
    const upright = sideClip('upright', 60);
    const sitting = { ...upright, aggregated_results: { ...upright.aggregated_results, posture_mode: 'sitting' } };
    expect(angleChartSvg(upright)!.svg).toContain('Knee angle °, normal 170 to 180°');
    expect(angleChartSvg(sitting)!.svg).toContain('Knee angle °, normal 80 to 120°');
    expect(angleChartSvg(sitting)!.svg).toContain('Kendall 2005; ANSI/HFES 2007');
  });

  it('gives the same bytes for the same result, whatever was drawn before', () => {
    angleChartSvg(sideClip('upright', 30));
    expect(angleChartSvg(clip)!.svg).toBe(chart.svg);
    expect(angleChartSvg(clip, { width: 640 })!.svg).toMatch(/^<svg width="640" /);
  });

  it('is null for a photo and when no angle was measured', () => {
    const photo = buildDetailedResult(mediaInfo('image', 1), [{ frame_index: 0, timestamp: 0, keypoints: toList(rightFacingPose()), box: null, score: 0.9 }],
      { model: 'cx', view: 'right', profile: 'stance' });
    const front = buildDetailedResult(mediaInfo('video', 10), Array.from({ length: 10 }, (_, i) => ({
      frame_index: i, timestamp: i / 30, keypoints: toList(frontPose()), box: null, score: 0.9 })), { model: 'cx', view: 'front', profile: 'stance' });
    const empty = buildDetailedResult(mediaInfo('video', 10), Array.from({ length: 10 }, (_, i) => ({
      frame_index: i, timestamp: i / 30, keypoints: null, box: null, score: 0 })), { model: 'cx', view: 'right', profile: 'stance' });
    expect(Object.keys(front.aggregated_results.measurements).length).toBeGreaterThan(0);
    for (const result of [photo, front, empty]) expect(angleChartSvg(result)).toBeNull();
  });
});

describe('chartPng', () => {
  it('rasterises the chart, text included, at the requested width', async () => {
    const png = await chartPng(angleChartSvg(sideClip())!.svg, { width: 1000 });
    const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(1000);
    expect(png.length).toBeLessThan(150_000);
    // The title is the only dark ink in the top band: without a font it would be blank.
    const header = data.subarray(0, 35 * info.width);
    expect(header.filter((v) => v < 80).length).toBeGreaterThan(200);
  });
});
