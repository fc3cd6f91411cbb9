// Video in real time (issue 16): the demo clip (test/fixtures/sports2d_demo.mp4, 7.7 s, 1768×994, 30 fps) analysed end
// to end by `postura analyze --json` in a fresh process, start-up included, at the default rate (10 analysed frames a
// second of footage), on the machine's cores. Figure: wall time / the clip's duration (goal ≤ 1), median of `runs`;
// the results of all runs must be byte-identical (apart from the analysis timestamp).
// The models' own cost is measured after the runs (measureInferenceFloor): the part of the ratio no pipeline can remove.
// Run alone: `node --import tsx bench/realtime.bench.ts [--runs=3]`.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeVideo } from '../src/pose/video-decoder.ts';
import { DEFAULT_KEYFRAME_SECONDS, keyframeInterval } from '../src/pose/video-pose.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIP = path.join(repoRoot, 'test/fixtures/sports2d_demo.mp4');

export interface RealtimeRun {
  wallMs: number;
  /** Load average when the run started. */
  load: string;
}

export interface RealtimeBenchResult {
  clipSeconds: number;
  frames: number;
  frameStep: number;
  runs: RealtimeRun[];
  medianWallMs: number;
  /** Median wall time ÷ clip duration (≤ 1: faster than real time). */
  ratio: number;
  identical: boolean;
  floor: InferenceFloor;
}

/**
 * What the models alone cost on these cores, measured in this run: one landmark pass (MoveNet Thunder, every analysed
 * frame) and one locator pass (MultiPose, every keyframe), CPU time of this thread, median of `passes`. Their sum over
 * the clip, spread over every core, is a floor under the wall time that no pipeline can go below.
 */
export interface InferenceFloor {
  landmarkMs: number;
  locatorMs: number;
  keyframes: number;
  cores: number;
  /** (frames × landmarkMs + keyframes × locatorMs) ÷ cores ÷ clip duration. */
  ratio: number;
}

async function measureInferenceFloor(frames: number, keyframes: number, clipSeconds: number, passes = 9): Promise<InferenceFloor> {
  const { MoveNetRunner, MultiPoseRunner } = await import('../src/pose/movenet-runner.ts');
  const { decodeVideoFrames } = await import('../src/pose/video-decoder.ts');
  let image;
  for await (const f of decodeVideoFrames(CLIP, { frameStep: 1 })) {
    image = f.image;
    break;
  }
  if (!image) throw new Error('the demo clip gave no frame');
  const landmark = await MoveNetRunner.load('movenet-thunder');
  const locator = await MultiPoseRunner.load();
  const crop = { cx: image.width / 2, cy: image.height / 2, size: image.height * 0.8, angle: 0 };
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const median = async (pass: () => Promise<unknown>): Promise<number> => {
    await pass();
    const samples: number[] = [];
    for (let i = 0; i < passes; i++) {
      const t0 = cpuMs();
      await pass();
      samples.push(cpuMs() - t0);
    }
    return samples.sort((a, b) => a - b)[passes >> 1]!;
  };
  const landmarkMs = await median(() => landmark.run(image, crop));
  const locatorMs = await median(() => locator.detect(image));
  landmark.dispose();
  locator.dispose();
  const cores = os.availableParallelism();
  const ratio = (frames * landmarkMs + keyframes * locatorMs) / 1000 / cores / clipSeconds;
  return { landmarkMs, locatorMs, keyframes, cores, ratio };
}

function analyseOnce(): Promise<{ wallMs: number; json: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/postura.js'), 'analyze', CLIP, '--json'], {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) reject(new Error(`postura analyze exited ${code}: ${err}`));
      else resolve({ wallMs, json: out });
    });
  });
}

export async function runRealtimeBench(options: { runs?: number; log?: (line: string) => void } = {}): Promise<RealtimeBenchResult> {
  const { runs: count = 3, log = console.log } = options;
  const info = await probeVideo(CLIP);
  const runs: RealtimeRun[] = [];
  const results: string[] = [];
  let frames = 0;
  let frameStep = 0;
  for (let i = 0; i < count; i++) {
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    const { wallMs, json } = await analyseOnce();
    const result = JSON.parse(json) as { processed_frames: number; frame_skip: number; analysis_timestamp?: string };
    frames = result.processed_frames;
    frameStep = result.frame_skip;
    results.push(JSON.stringify({ ...result, analysis_timestamp: undefined }));
    runs.push({ wallMs, load });
    log(`demo clip run ${i + 1}: ${(wallMs / 1000).toFixed(2)} s for ${info.duration.toFixed(2)} s of footage `
      + `(${frames} frames at one in ${frameStep}) (load ${load})`);
  }
  const sorted = runs.map((r) => r.wallMs).sort((a, b) => a - b);
  const medianWallMs = sorted[Math.floor(sorted.length / 2)]!;
  const ratio = medianWallMs / 1000 / info.duration;
  const identical = results.every((r) => r === results[0]);
  log(`demo clip: median ${(medianWallMs / 1000).toFixed(2)} s wall / ${info.duration.toFixed(2)} s = ${ratio.toFixed(2)} `
    + `(goal ≤ 1); results identical across runs: ${identical}`);
  const keyframes = Math.ceil(frames / keyframeInterval(DEFAULT_KEYFRAME_SECONDS, info.fps, frameStep));
  const floor = await measureInferenceFloor(frames, keyframes, info.duration);
  log(`models alone on these cores: ${frames} landmark passes × ${floor.landmarkMs.toFixed(0)} ms + ${keyframes} locator passes × `
    + `${floor.locatorMs.toFixed(0)} ms of CPU, over ${floor.cores} cores = ${floor.ratio.toFixed(2)} × the clip `
    + '(a floor under the ratio above, before decoding and start-up)');
  return { clipSeconds: info.duration, frames, frameStep, runs, medianWallMs, ratio, identical, floor };
}

const thisFile = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const runs = process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1];
  runRealtimeBench({ runs: runs ? Number(runs) : undefined }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
