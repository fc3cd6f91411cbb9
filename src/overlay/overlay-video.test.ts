import { existsSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetailedResult, type DetailedResult } from '../analysis/view-analysis.ts';
import type { MediaInfo, PoseFrame } from '../pose/analyze-media.ts';
import { decodeAllFrames, probeVideoStream, topLevelAtoms } from '../pose/encoded-video.test-helper.ts';
import { decodeVideoFrames } from '../pose/video-decoder.ts';
import { KEYPOINT_INDEX, SKELETON_EDGES, type Keypoint } from '../posture/keypoints.ts';
import { frontPose, rightFacingPose, toList, type Pose } from '../posture/pose-fixtures.test-helper.ts';
import { overlayFrameContent } from './overlay-content.ts';
import { buildFrameSvg, GAP_LABEL, renderOverlayVideo } from './overlay-video.ts';

const video = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/sports2d_demo.mp4');
/** The fixture: 1768 × 994 at 30 fps, 230 frames. */
const WIDTH = 1768;
const HEIGHT = 994;
/** Drawn at 360 px, decoded 360 × 202: small frames keep the test fast. */
const MAX_SIDE = 360;
const OUT = { width: 360, height: 202 };

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-overlay-video-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A hand-made pose placed in the fixture's own pixels (the 1000 × 700 fixture pose, scaled and moved). */
function placed(pose: Pose): Keypoint[] {
  return toList(pose).map(([x, y, s]) => [500 + 1.2 * x, 100 + 1.2 * y, s] as Keypoint);
}

/**
 * A result as the analysis would give for the fixture's first two seconds at frame step `step`, without a pose
 * model: the right-facing pose on every frame except the gaps, and a front-facing one at `frontAt`.
 */
function syntheticResult(opts: { step: number; last: number; gaps?: number[]; frontAt?: number[] }): DetailedResult {
  const frames: PoseFrame[] = [];
  for (let index = 0; index <= opts.last; index += opts.step) {
    const keypoints = opts.gaps?.includes(index) ? null : placed(opts.frontAt?.includes(index) ? frontPose() : rightFacingPose());
    frames.push({ frame_index: index, timestamp: Math.round((index / 30) * 1000) / 1000, keypoints, box: null, score: 0.9 });
  }
  const info = { fileType: 'video', format: 'mp4', width: WIDTH, height: HEIGHT, fps: 30, totalFrames: 230, frameStep: opts.step,
    duration: 230 / 30, rotation: 0 } as MediaInfo;
  return buildDetailedResult(info, frames, { model: 'cx', view: 'auto', profile: 'stance' });
}

/** Points along every bone drawn on a frame, in the video's pixels. */
function bonePoints(keypoints: readonly Keypoint[]): Array<[number, number]> {
  const k = OUT.width / WIDTH;
  return SKELETON_EDGES.flatMap(([a, b]) => {
    const [ax, ay] = keypoints[KEYPOINT_INDEX[a]]!;
    const [bx, by] = keypoints[KEYPOINT_INDEX[b]]!;
    return [0.3, 0.5, 0.7].map((t) => [Math.round(k * (ax + t * (bx - ax))), Math.round(k * (ay + t * (by - ay)))] as [number, number]);
  });
}

/** Mean absolute RGB difference of two frames at the given points. */
function meanDifference(a: Uint8Array, b: Uint8Array, points: ReadonlyArray<[number, number]>): number {
  let sum = 0;
  for (const [x, y] of points) for (let c = 0; c < 3; c++) sum += Math.abs(a[(y * OUT.width + x) * 3 + c]! - b[(y * OUT.width + x) * 3 + c]!);
  return sum / (3 * points.length);
}

describe('renderOverlayVideo', () => {
  const step = 6;
  const gaps = [18, 42];
  const result = syntheticResult({ step, last: 60, gaps });
  let output = '';
  let rendered: Awaited<ReturnType<typeof renderOverlayVideo>>;
  beforeAll(async () => {
    output = path.join(dir, 'overlay.mp4');
    rendered = await renderOverlayVideo(video, result, output, { maxSide: MAX_SIDE });
  });

  it('has one frame per analysed frame, at the source rate over the frame step, as faststart H.264', async () => {
    expect(rendered).toEqual({ frames: 11, ...OUT, fps: 5 });
    const stream = await probeVideoStream(output);
    expect(stream).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', ...OUT, nb_frames: String(result.frames_data.length), avg_frame_rate: '5/1' });
    const atoms = await topLevelAtoms(output);
    expect(atoms.indexOf('moov')).toBeGreaterThanOrEqual(0);
    expect(atoms.indexOf('moov')).toBeLessThan(atoms.indexOf('mdat'));
  });

  it('draws the skeleton on frames with the subject, and on a gap only the picture and a label', async () => {
    const drawn = await decodeAllFrames(output, OUT.width, OUT.height);
    const source: Uint8Array[] = [];
    for await (const frame of decodeVideoFrames(video, { frameStep: step, maxSide: MAX_SIDE })) {
      if (frame.index > 60) break;
      source.push(frame.image.data);
    }
    // The legs, below the middle, where a gap's label does not reach.
    const legs = bonePoints(result.frames_data.find((f) => f.keypoints)!.keypoints!).filter(([, y]) => y > OUT.height / 2 + 20);
    // Three points across the middle, where a gap's label goes.
    const centre: Array<[number, number]> = [-20, 0, 20].map((dx) => [OUT.width / 2 + dx, OUT.height / 2 - 3]);
    result.frames_data.forEach((f, i) => {
      const bones = meanDifference(drawn[i]!, source[i]!, legs);
      const label = meanDifference(drawn[i]!, source[i]!, centre);
      // Drawn: the bones stand out from the picture by far more than H.264 changes it (a few levels).
      if (f.keypoints) expect({ index: f.frame_index, bones: bones > 30, label: label < 12 }).toEqual({ index: f.frame_index, bones: true, label: true });
      else expect({ index: f.frame_index, bones: bones < 12, label: label > 30 }).toEqual({ index: f.frame_index, bones: true, label: true });
    });
    expect(result.frames_data.filter((f) => !f.keypoints).map((f) => f.frame_index)).toEqual(gaps);
  });

  it('gives the same file for the same input', async () => {
    const again = path.join(dir, 'again.mp4');
    await renderOverlayVideo(video, result, again, { maxSide: MAX_SIDE });
    expect((await readFile(again)).equals(await readFile(output))).toBe(true);
  });

  it('on abort stops and leaves no partial file', async () => {
    const file = path.join(dir, 'aborted.mp4');
    const controller = new AbortController();
    // The whole clip at step 2 takes seconds; the abort comes as soon as the encoder has created the file.
    const watcher = watch(dir, (_, name) => name === 'aborted.mp4' && controller.abort(new Error('analysis deleted')));
    try {
      const rendering = renderOverlayVideo(video, syntheticResult({ step: 2, last: 228 }), file, { maxSide: MAX_SIDE, signal: controller.signal });
      await expect(rendering).rejects.toThrow('analysis deleted');
    } finally {
      watcher.close();
    }
    expect(existsSync(file)).toBe(false);
  });
});

describe('overlay video frames', () => {
  it('a gap is the caption and a "subject not in frame" label: no skeleton, no marks', () => {
    const result = syntheticResult({ step: 6, last: 12, gaps: [6] });
    const content = overlayFrameContent(result, result.frames_data[1]!);
    expect(content).toMatchObject({ caption: 'stance · right view · frame 6 · t = 0.20 s', body: null });
    const svg = buildFrameSvg(OUT.width, OUT.height, content);
    expect(svg).toContain(`data-role="gap">${GAP_LABEL}</text>`);
    expect(svg).not.toMatch(/<(circle|line|path) /);
  });

  it('a frame with the subject has its skeleton and its own values at the joints', () => {
    const result = syntheticResult({ step: 6, last: 12 });
    const frame = result.frames_data[2]!;
    const content = overlayFrameContent(result, frame);
    expect(content.caption).toBe('stance · right view · frame 12 · t = 0.40 s');
    const svg = buildFrameSvg(WIDTH, HEIGHT, content);
    expect(svg.match(/<circle /g)?.length).toBeGreaterThanOrEqual(frame.keypoints!.filter(([, , s]) => s > 0).length);
    const callouts = [...svg.matchAll(/data-measurement="([^"]+)">[^<]*?(-?[\d.]+)(?:°| cm)<\/text>/g)].map(([, name, value]) => [name!, Number(value)] as const);
    expect(callouts.map(([name]) => name).sort()).toEqual(Object.keys(frame.measurements!).sort());
    for (const [name, value] of callouts) expect(value).toBeCloseTo(frame.measurements![name]!, 1);
  });

  it('a frame of an auto clip that looks like another view gets the marks of the view it was measured in', () => {
    const result = syntheticResult({ step: 6, last: 24 });
    expect(result.view).toBe('right');
    // An auto clip measures each frame as it looks: here frame 12 measured as a front view (as a lone frame is).
    const measuredAlone = syntheticResult({ step: 6, last: 0, frontAt: [0] }).frames_data[0]!;
    const front = { ...measuredAlone, frame_index: 12, timestamp: 0.4 };
    expect(front.detected_view).toBe('front');
    expect(Object.keys(front.measurements!).length).toBeGreaterThan(0);
    const content = overlayFrameContent({ ...result, frames_data: result.frames_data.map((f) => (f.frame_index === 12 ? front : f)) }, front);
    expect(content.caption).toBe('stance · right view · frame 12 · t = 0.40 s · looks like a front view');
    const shown = content.body!.marks.flatMap((m) => (m.measurement ? [m.measurement] : []));
    expect(new Set(shown)).toEqual(new Set(Object.keys(front.measurements!)));
  });
});
