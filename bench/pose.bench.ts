// Pose benchmark: bare model frames/s (pre-decoded frames, one worker thread, tracking as in the pipeline) vs the
// whole pipeline (ffmpeg decode → worker pool → ordered, smoothed frames) on a 1080p video, with 1 and 2 workers,
// and the peak RSS of the process tree's main process. Run alone: `node --import tsx bench/pose.bench.ts [--seconds=60]`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { estimateMedia } from '../src/pose/analyze-media.ts';
import { resolveFfmpegPath } from '../src/pose/ffmpeg-path.ts';
import type { Box, RgbImage } from '../src/pose/pose-types.ts';
import { decodeVideoFrames } from '../src/pose/video-decoder.ts';
import { createPoseWorkerPool } from '../src/pose/worker-pool.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface PoseBenchRow {
  model: string;
  workers: number;
  bareFps: number;
  pipelineFps: number;
  /** pipeline / (workers × bare): goal ≥ 0.9. */
  efficiency: number;
  frames: number;
}

export interface PoseBenchResult {
  video: string;
  seconds: number;
  rows: PoseBenchRow[];
  /** 2-worker pipeline fps / 1-worker pipeline fps per model: goal ≥ 1.7 for cx. */
  scaling: Record<string, number>;
  peakRssMb: number;
}

/** A `seconds`-long 1080p H.264 copy of the Sports2D demo (looped), made once in the temp dir. */
export async function makeBenchVideo(seconds: number): Promise<string> {
  const src = [path.join(repoRoot, 'test/fixtures/sports2d_demo.mp4'), path.resolve(repoRoot, '../shared/data/dev/sports2d_demo.mp4')].find(existsSync);
  if (!src) throw new Error('sports2d_demo.mp4 not found (test/fixtures or ../shared/data/dev)');
  const out = path.join(os.tmpdir(), `postura-bench-1080p-${seconds}s.mp4`);
  if (existsSync(out)) return out;
  await execFileAsync(resolveFfmpegPath(), ['-v', 'error', '-y', '-stream_loop', '20', '-i', src, '-t', String(seconds), '-an',
    '-vf', 'scale=1920:1080', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p', out]);
  return out;
}

function trackPeakRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)) };
}

async function bareFps(model: string, frames: RgbImage[]): Promise<number> {
  const pool = createPoseWorkerPool({ models: [model], size: 1, perWorker: 1 });
  await pool.ready();
  let track: Box | null = null;
  // Warm-up frame (first inference compiles kernels).
  await pool.estimate({ ...frames[0]!, data: frames[0]!.data.slice() }, { model });
  const t0 = performance.now();
  for (const f of frames) {
    const r = await pool.estimate({ ...f, data: f.data.slice() }, { model, track });
    track = r?.box ?? null;
  }
  const fps = frames.length / ((performance.now() - t0) / 1000);
  await pool.close();
  return fps;
}

async function pipelineFps(model: string, workers: number, video: string): Promise<{ fps: number; frames: number }> {
  const pool = createPoseWorkerPool({ models: [model], size: workers });
  await pool.ready();
  const t0 = performance.now();
  let frames = 0;
  for await (const _ of estimateMedia(video, { estimator: pool, model, frameStep: 2, inFlight: 2 * workers })) frames++;
  const fps = frames / ((performance.now() - t0) / 1000);
  await pool.close();
  return { fps, frames };
}

export async function runPoseBench(opts: { seconds?: number; models?: string[]; log?: (s: string) => void } = {}): Promise<PoseBenchResult> {
  const log = opts.log ?? console.log;
  const seconds = opts.seconds ?? 20;
  const models = opts.models ?? ['cx', 'gy'];
  const rss = trackPeakRss();
  const video = await makeBenchVideo(seconds);
  // Bare frames: the same decoded frames the pipeline sees (first 40 sampled frames).
  const sample: RgbImage[] = [];
  for await (const f of decodeVideoFrames(video, { frameStep: 2 })) {
    sample.push(f.image);
    if (sample.length >= 40) break;
  }
  const rows: PoseBenchRow[] = [];
  const scaling: Record<string, number> = {};
  for (const model of models) {
    const bare = await bareFps(model, sample);
    for (const workers of [1, 2]) {
      const p = await pipelineFps(model, workers, video);
      const row = { model, workers, bareFps: bare, pipelineFps: p.fps, efficiency: p.fps / (workers * bare), frames: p.frames };
      rows.push(row);
      log(`pose ${model} workers=${workers}: bare ${bare.toFixed(2)} fps/worker, pipeline ${p.fps.toFixed(2)} fps ` +
        `(${p.frames} frames), efficiency ${row.efficiency.toFixed(2)} (goal ≥ 0.9)`);
    }
    const one = rows.find((r) => r.model === model && r.workers === 1)!.pipelineFps;
    const two = rows.find((r) => r.model === model && r.workers === 2)!.pipelineFps;
    scaling[model] = two / one;
    log(`pose ${model}: 2 workers / 1 worker = ${scaling[model]!.toFixed(2)}× (goal ≥ 1.7 for cx)`);
  }
  const peakRssMb = rss.stop() / 1024 / 1024;
  log(`pose peak RSS ${peakRssMb.toFixed(0)} MB on a ${seconds} s 1080p video (goal < 500 MB)`);
  return { video, seconds, rows, scaling, peakRssMb };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const secArg = process.argv.find((a) => a.startsWith('--seconds='));
  const modelArg = process.argv.find((a) => a.startsWith('--models='));
  runPoseBench({
    seconds: secArg ? Number(secArg.split('=')[1]) : 20,
    models: modelArg ? modelArg.split('=')[1]!.split(',') : undefined,
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
