// Pose benchmark, every figure of issue 3 in one run:
//  - bare model frames/s: the pipeline's own frames pre-decoded (1080p → 720 as the pipeline does), tracking as in the
//    pipeline, with 1 worker and with 2 workers running at the same time (the machine's ceiling for 2 workers);
//    thread CPU ms per frame next to wall ms per frame tells "core shared with other load" from "slower per frame";
//  - whole-pipeline frames/s (ffmpeg decode → worker pool → ordered, smoothed frames) on a 10 s 1080p video with
//    1 and 2 workers, efficiency = pipeline / (workers × bare 1-worker fps), scaling = 2 workers / 1 worker;
//  - peak RSS of the process tree (node process incl. its worker threads, plus ffmpeg) while a separate process
//    analyses a 60 s 1080p video with 2 workers: measured from /proc by this process, so the bench's own
//    pre-decoded frames do not count.
// Run alone: `node --import tsx bench/pose.bench.ts [--seconds=10] [--rss-seconds=60] [--models=cx,gy] [--rss-only]`
// (--rss-only: just the two peak-RSS figures, pipeline process and real CLI).
import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { estimateMedia } from '../src/pose/analyze-media.ts';
import { resolveFfmpegPath } from '../src/pose/ffmpeg-path.ts';
import type { Box, RgbImage } from '../src/pose/pose-types.ts';
import { decodeVideoFrames } from '../src/pose/video-decoder.ts';
import { createPoseWorkerPool, type WorkerPoolPoseEstimator } from '../src/pose/worker-pool.ts';

const execFileAsync = promisify(execFile);
const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '..');

export interface BareFigure {
  workers: number;
  fps: number;
  /** Wall and thread-CPU milliseconds per frame inside one worker. */
  wallMsPerFrame: number;
  cpuMsPerFrame: number;
  load: string;
}

export interface PipelineFigure {
  workers: number;
  fps: number;
  frames: number;
  /** Frames with the subject (the rest are gaps: no landmark pass ran on them). */
  found: number;
  /** pipeline fps / (workers × bare 1-worker fps): goal ≥ 0.9. */
  efficiency: number;
  /** Tracked frames, lost ones found again by the wider crop, whole-frame searches, tracked frames handed to the
   *  locator worker. */
  tracked: number;
  rescued: number;
  searches: number;
  retries: number;
  load: string;
}

export interface ModelBench {
  model: string;
  bare: BareFigure[];
  pipeline: PipelineFigure[];
  /** bare 2-worker fps / bare 1-worker fps: what the hardware allows. */
  bareScaling: number;
  /** pipeline 2 workers / pipeline 1 worker: goal ≥ 1.7 for cx. */
  scaling: number;
}

export interface RssFigure {
  /** pipeline: estimateMedia + worker pool in a bare process; cli: `node bin/postura.js analyze <video> --json`. */
  via: 'pipeline' | 'cli';
  model: string;
  workers: number;
  seconds: number;
  frames: number;
  fps: number;
  /** Peak RSS of the node process (main + worker threads), of ffmpeg, and of both together (sampled together). */
  peakNodeMb: number;
  peakFfmpegMb: number;
  /** Other children (tsx's esbuild service, only started when a source file changed since tsx cached it). */
  peakOtherMb: number;
  peakTreeMb: number;
  load: string;
}

export interface PoseBenchResult {
  cpus: number;
  cpuModel: string;
  seconds: number;
  models: ModelBench[];
  rss: RssFigure | null;
  rssCli: RssFigure | null;
  goals: Array<{ goal: string; value: string; met: boolean }>;
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function sourceVideo(): string {
  const src = [path.join(repoRoot, 'test/fixtures/sports2d_demo.mp4'), path.resolve(repoRoot, '../shared/data/dev/sports2d_demo.mp4')].find(existsSync);
  if (!src) throw new Error('sports2d_demo.mp4 not found (test/fixtures or ../shared/data/dev)');
  return src;
}

/**
 * A `seconds`-long 1080p H.264 video of the Sports2D demo's subject (the woman walking past, 1.7 s to 6.3 s of the
 * demo) walking there and back again, made once in the temp dir. The subject is on every frame and never jumps:
 * frames without the subject are gaps the pipeline skips, and a loop that teleported her back to the start would
 * make each pass a new person (both would flatter the pipeline against the bare loop, which runs every frame).
 */
export async function makeBenchVideo(seconds: number): Promise<string> {
  const out = path.join(os.tmpdir(), `postura-bench-walk-1080p-${seconds}s.mp4`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.mp4`;
  const segment = `${out}.${process.pid}.there-and-back.mp4`;
  const encode = ['-an', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p'];
  await execFileAsync(resolveFfmpegPath(), ['-v', 'error', '-y', '-i', sourceVideo(), '-filter_complex',
    '[0:v]trim=1.7:6.3,setpts=PTS-STARTPTS,scale=1920:1080,split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1[v]', '-map', '[v]', ...encode, segment]);
  await execFileAsync(resolveFfmpegPath(), ['-v', 'error', '-y', '-stream_loop', String(Math.ceil(seconds / 9.2)), '-i', segment,
    '-t', String(seconds), ...encode, tmp]);
  await rm(segment, { force: true });
  await import('node:fs/promises').then((fs) => fs.rename(tmp, out));
  return out;
}

async function sumStats(pool: WorkerPoolPoseEstimator): Promise<{ cpuMs: number; tracked: number; rescued: number; searches: number }> {
  const s = await pool.stats();
  return {
    cpuMs: s.reduce((a, x) => a + x.cpuMs, 0),
    tracked: s.reduce((a, x) => a + x.tracked, 0),
    rescued: s.reduce((a, x) => a + x.rescued, 0),
    searches: s.reduce((a, x) => a + x.searches, 0),
  };
}

/** `workers` loops at once, each running every frame in order with its own track (as the pipeline does). */
async function bare(model: string, frames: RgbImage[], workers: number): Promise<BareFigure> {
  const pool = createPoseWorkerPool({ models: [model], size: workers, perWorker: 1, preloadLocator: true });
  try {
    await pool.ready();
    // Warm-up: the first inferences compile kernels and size the WASM heap.
    await Promise.all(Array.from({ length: workers }, async () => {
      let track: Box | null = null;
      for (const f of frames.slice(0, 3)) track = (await pool.estimate({ ...f, data: f.data.slice() }, { model, track }))?.box ?? null;
    }));
    const before = await sumStats(pool);
    pool.inferenceMs = 0;
    const load = loadavg();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: workers }, async () => {
      let track: Box | null = null;
      for (const f of frames) track = (await pool.estimate({ ...f, data: f.data.slice() }, { model, track }))?.box ?? null;
    }));
    const s = (performance.now() - t0) / 1000;
    const after = await sumStats(pool);
    const n = workers * frames.length;
    return { workers, fps: n / s, wallMsPerFrame: pool.inferenceMs / n, cpuMsPerFrame: (after.cpuMs - before.cpuMs) / n, load };
  } finally {
    await pool.close();
  }
}

async function pipeline(model: string, workers: number, video: string, bare1: number, warmFrame: RgbImage): Promise<PipelineFigure> {
  const pool = createPoseWorkerPool({ models: [model], size: workers });
  try {
    await pool.ready();
    // As in a server that has analysed before: one worker holds the person locator (the bare loops preload it too).
    await pool.people({ ...warmFrame, data: warmFrame.data.slice() }, { model, sequence: true });
    const load = loadavg();
    const t0 = performance.now();
    let frames = 0;
    let found = 0;
    for await (const f of estimateMedia(video, { estimator: pool, model, frameStep: 2 })) {
      frames++;
      if (f.keypoints) found++;
    }
    const fps = frames / ((performance.now() - t0) / 1000);
    const st = await sumStats(pool);
    return { workers, fps, frames, found, efficiency: fps / (workers * bare1), tracked: st.tracked, rescued: st.rescued, searches: st.searches, retries: pool.retries, load };
  } finally {
    await pool.close();
  }
}

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * Runs the pipeline (or the real CLI) in a fresh process and samples the RSS of that process and of its children
 * (ffmpeg; tsx's esbuild when a source changed since tsx cached it) from /proc.
 */
async function peakRss(model: string, workers: number, video: string, seconds: number, via: RssFigure['via'] = 'pipeline'): Promise<RssFigure> {
  const args = via === 'cli'
    ? [path.join(repoRoot, 'bin/postura.js'), 'analyze', video, '--json', '--model', model, '--workers', String(workers)]
    : ['--import', 'tsx', thisFile, `--rss-child=${model}`, `--workers=${workers}`, `--video=${video}`];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', via === 'cli' ? 'ignore' : 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let peakNode = 0;
  let peakFfmpeg = 0;
  let peakOther = 0;
  let peakTree = 0;
  const load = loadavg();
  const comm = (pid: number): string => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const timer = setInterval(() => {
    const node = rssKb(child.pid!);
    let ff = 0;
    let other = 0;
    for (const p of childPids(child.pid!)) {
      if (comm(p) === 'ffmpeg') ff += rssKb(p);
      else other += rssKb(p);
    }
    peakNode = Math.max(peakNode, node);
    peakFfmpeg = Math.max(peakFfmpeg, ff);
    peakOther = Math.max(peakOther, other);
    peakTree = Math.max(peakTree, node + ff + other);
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`RSS child exited with ${code}`);
  const r = via === 'cli'
    ? (() => {
        const frames = (JSON.parse(out) as { frames_data?: unknown[] }).frames_data?.length ?? 0;
        return { frames, fps: frames / ((performance.now() - t0) / 1000) };
      })()
    : (JSON.parse(out.trim().split('\n').pop()!) as { frames: number; fps: number });
  const mb = (kb: number): number => Math.round(kb / 1024);
  return { via, model, workers, seconds, frames: r.frames, fps: r.fps, peakNodeMb: mb(peakNode), peakFfmpegMb: mb(peakFfmpeg), peakOtherMb: mb(peakOther), peakTreeMb: mb(peakTree), load };
}

export async function runPoseBench(
  opts: { seconds?: number; rssSeconds?: number; models?: string[]; rssOnly?: boolean; log?: (s: string) => void } = {},
): Promise<PoseBenchResult> {
  const log = opts.log ?? console.log;
  const seconds = opts.seconds ?? 10;
  const rssSeconds = opts.rssSeconds ?? 60;
  const models = opts.models ?? ['cx', 'gy'];
  const cpus = os.availableParallelism();
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  log(`pose bench: ${cpus} CPUs (${cpuModel}), load ${loadavg()}`);
  const video = opts.rssOnly ? '' : await makeBenchVideo(seconds);
  // Bare frames: exactly the decoded frames the pipeline sees (every 2nd frame, 1280×720, up to 150 = 10 s), so bare
  // and pipeline do the same model work (including the searches where the looped video jumps).
  const sample: RgbImage[] = [];
  for await (const f of opts.rssOnly ? [] : decodeVideoFrames(video, { frameStep: 2 })) {
    sample.push(f.image);
    if (sample.length >= 150) break;
  }
  const results: ModelBench[] = [];
  for (const model of opts.rssOnly ? [] : models) {
    const b1 = await bare(model, sample, 1);
    const b2 = await bare(model, sample, 2);
    for (const b of [b1, b2]) {
      log(`pose ${model} bare ${b.workers}w: ${b.fps.toFixed(2)} fps; per frame ${b.wallMsPerFrame.toFixed(0)} ms wall, ` +
        `${b.cpuMsPerFrame.toFixed(0)} ms thread CPU (load ${b.load})`);
    }
    const pipe: PipelineFigure[] = [];
    for (const workers of [1, 2]) {
      const p = await pipeline(model, workers, video, b1.fps, sample[0]!);
      pipe.push(p);
      log(`pose ${model} pipeline ${workers}w: ${p.fps.toFixed(2)} fps (${p.frames} frames, the subject on ${p.found}; ${p.tracked} tracked, ${p.rescued} found again by a wider crop, ${p.searches} searches, ` +
        `${p.retries} handed to the locator worker), efficiency ${p.efficiency.toFixed(2)} (goal ≥ 0.9) (load ${p.load})`);
    }
    const r: ModelBench = { model, bare: [b1, b2], pipeline: pipe, bareScaling: b2.fps / b1.fps, scaling: pipe[1]!.fps / pipe[0]!.fps };
    results.push(r);
    log(`pose ${model}: 2w/1w pipeline ${r.scaling.toFixed(2)}× (goal ≥ 1.7 for cx), bare ${r.bareScaling.toFixed(2)}× (hardware ceiling)`);
  }
  let rss: RssFigure | null = null;
  let rssCli: RssFigure | null = null;
  if (rssSeconds > 0) {
    const long = await makeBenchVideo(rssSeconds);
    const model = models.includes('cx') ? 'cx' : models[0]!;
    for (const via of ['pipeline', 'cli'] as const) {
      const f = await peakRss(model, 2, long, rssSeconds, via);
      if (via === 'cli') rssCli = f;
      else rss = f;
      log(`pose peak RSS (${via}), ${f.model} 2 workers, ${rssSeconds} s 1080p (${f.frames} frames, ${f.fps.toFixed(2)} fps): node ${f.peakNodeMb} MB ` +
        `(main + worker threads), ffmpeg ${f.peakFfmpegMb} MB, ` +
        `other children ${f.peakOtherMb} MB (tsx's esbuild, only after a source changed), together ${f.peakTreeMb} MB (goal < 500 MB) (load ${f.load})`);
    }
  }
  const goals: PoseBenchResult['goals'] = [];
  for (const m of results) {
    for (const p of m.pipeline) {
      // Issue 11: deterministic tracking may not cost the speed: the pipeline with N workers against N bare threads.
      const bareN = m.bare.find((b) => b.workers === p.workers)!;
      const ratio = p.fps / bareN.fps;
      goals.push({ goal: `${m.model} pipeline ${p.workers}w ≥ 0.8 × bare ${p.workers}-thread fps`, value: `${ratio.toFixed(2)} (${p.fps.toFixed(2)} / ${bareN.fps.toFixed(2)} fps)`, met: ratio >= 0.8 });
    }
  }
  const cx = results.find((m) => m.model === 'cx');
  if (cx) goals.push({ goal: 'cx pipeline 2w ≥ 1.7 × 1w', value: `${cx.scaling.toFixed(2)}× (bare ${cx.bareScaling.toFixed(2)}×)`, met: cx.scaling >= 1.7 });
  for (const f of [rss, rssCli]) {
    if (f) goals.push({ goal: `peak RSS < 500 MB (${f.via}, ${f.seconds} s 1080p, ${f.workers} workers)`, value: `${f.peakTreeMb} MB with ffmpeg, ${f.peakNodeMb} MB node`, met: f.peakTreeMb < 500 });
  }
  for (const g of goals) log(`pose goal ${g.met ? 'MET   ' : 'NOT MET'} ${g.goal}: ${g.value}`);
  log(`pose bench done, load ${loadavg()}`);
  return { cpus, cpuModel, seconds, models: results, rss, rssCli, goals };
}

async function rssChild(model: string, workers: number, video: string): Promise<void> {
  const pool = createPoseWorkerPool({ models: [model], size: workers });
  await pool.ready();
  const t0 = performance.now();
  let frames = 0;
  const statsEvery = Number(process.argv.find((a) => a.startsWith('--stats='))?.split('=')[1] ?? 0);
  const mb = (b: number): number => Math.round(b / 2 ** 20);
  const report = async (): Promise<void> => {
    const s = await pool.stats();
    const m = process.memoryUsage();
    console.error(`rss-child frame ${frames}: main rss ${mb(m.rss)} heap ${mb(m.heapUsed)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)} MB; workers ` +
      s.map((w) => `[wasm ${mb(w.wasmHeapBytes)} js ${mb(w.jsHeapBytes)} tensors ${w.tensors} ${w.loaded.join('+')}]`).join(' '));
  };
  for await (const _ of estimateMedia(video, { estimator: pool, model, frameStep: 2 })) {
    frames++;
    if (statsEvery > 0 && frames % statsEvery === 0) await report();
  }
  const fps = frames / ((performance.now() - t0) / 1000);
  if (statsEvery > 0) await report();
  await pool.close();
  console.log(JSON.stringify({ frames, fps }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const run = arg('rss-child')
    ? rssChild(arg('rss-child')!, Number(arg('workers') ?? 2), arg('video')!)
    : runPoseBench({
        seconds: arg('seconds') ? Number(arg('seconds')) : undefined,
        rssSeconds: arg('rss-seconds') ? Number(arg('rss-seconds')) : undefined,
        models: arg('models')?.split(','),
        rssOnly: process.argv.includes('--rss-only'),
      });
  run.catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
