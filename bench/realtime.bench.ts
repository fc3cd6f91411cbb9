// Video in real time (issue 16): the demo clip (test/fixtures/sports2d_demo.mp4, 7.7 s, 1768×994, 30 fps) analysed end
// to end by `postura analyze --json` in a fresh process, start-up included, at the default rate (10 analysed frames a
// second of footage), on the machine's cores. Figure: wall time / the clip's duration (goal ≤ 1), median of `runs`;
// the results of all runs must be byte-identical (apart from the analysis timestamp).
// Run alone: `node --import tsx bench/realtime.bench.ts [--runs=3]`.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeVideo } from '../src/pose/video-decoder.ts';

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
  return { clipSeconds: info.duration, frames, frameStep, runs, medianWallMs, ratio, identical };
}

const thisFile = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const runs = process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1];
  runRealtimeBench({ runs: runs ? Number(runs) : undefined }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
