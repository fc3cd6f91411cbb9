// Analysis benchmark (issue 5): wall time of a 2-view studio analysis (front = test/fixtures/coco_000000000785.jpg,
// left = a 10 s video looped from test/fixtures/sports2d_demo.mp4, 1768×994 30 fps) through the real API: embedded
// PGlite and the disk store in a temp DATA_DIR, the pg-boss queue, and the in-process pose worker pool (cx, one
// worker per core) as the estimator; default job settings (10 analysed frames a second of footage, concurrency 2, 1 s queue polling).
// Timed from the upload request's start to the poll of GET /api/analysis/:id (every 100 ms) that sees `completed`,
// split into upload, wait in the queue (until the status leaves `pending`) and analysis.
// For comparison, the bare `postura analyze` work on the same two files with the same pool (decode + inference +
// scoring per view, one after the other as the job does; no store, overlays, PDF or database), and apart from it the
// video view's overlay video and angle chart drawn from that result.
// Run alone: `node --import tsx bench/analysis.bench.ts [--seconds=10] [--no-bare]`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { analyseViewMedia } from '../src/analysis/view-analysis.ts';
import { renderOverlayVideo } from '../src/overlay/overlay-video.ts';
import { angleChartSvg, chartPng } from '../src/report/angle-charts.ts';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { openAdapters } from '../src/infra/adapters.ts';
import { resolveFfmpegPath } from '../src/pose/ffmpeg-path.ts';
import { createPoseWorkerPool } from '../src/pose/worker-pool.ts';

const execFileAsync = promisify(execFile);
const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '..');
const IMAGE = path.join(repoRoot, 'test/fixtures/coco_000000000785.jpg');
const SOURCE_VIDEO = path.join(repoRoot, 'test/fixtures/sports2d_demo.mp4');

export interface AnalysisBenchResult {
  videoSeconds: number;
  frameStep: number;
  workers: number;
  /** Frames analysed in the video view (from its detailed result). */
  videoFrames: number;
  uploadMs: number;
  queueWaitMs: number;
  analysisMs: number;
  /** Upload request start → `completed` seen. */
  totalMs: number;
  /** The same two files through analyseViewMedia with the same pool (null when skipped). */
  bareMs: number | null;
  /** The video view's overlay video and angle chart, drawn from the bare run's result (null when skipped). */
  outputsMs: number | null;
  status: string;
  load: string;
  goals: Array<{ goal: string; value: string; met: boolean }>;
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** A `seconds`-long copy of the Sports2D demo at its own resolution (looped, H.264, no audio), made once. */
export async function makeAnalysisVideo(seconds: number): Promise<string> {
  const out = path.join(os.tmpdir(), `postura-bench-analysis-${seconds}s.mp4`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.mp4`;
  await execFileAsync(resolveFfmpegPath(), ['-v', 'error', '-y', '-stream_loop', String(Math.ceil(seconds / 7.6)), '-i', SOURCE_VIDEO,
    '-t', String(seconds), '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', tmp]);
  await rename(tmp, out);
  return out;
}

function multipartBody(parts: Array<{ name: string; value: string } | { name: string; filename: string; type: string; content: Buffer }>) {
  const boundary = `----posturabench${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n`
        + `Content-Type: ${part.type}\r\n\r\n`), part.content, Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function runAnalysisBench(options: { seconds?: number; bare?: boolean; log?: (line: string) => void } = {}):
  Promise<AnalysisBenchResult> {
  const { seconds = 10, bare = true, log = console.log } = options;
  const video = await makeAnalysisVideo(seconds);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-bench-analysis-'));
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: secret, DATA_DIR: dataDir });
  const estimator = createPoseWorkerPool({ models: ['cx'] });
  const adapters = await openAdapters(config, secret);
  const app = await buildApp({ config, jwtSecret: secret, ...adapters, estimator });
  try {
    const [image, clip] = await Promise.all([readFile(IMAGE), readFile(video)]);
    // Models loaded and kernels compiled before the clock starts, as in a server that has been up a while.
    await estimator.ready();
    await Promise.all(Array.from({ length: estimator.size }, () =>
      analyseViewMedia(IMAGE, { estimator, model: 'cx', profile: 'stance', view: 'front', frameStep: config.jobs.frameStep ?? undefined, analysisFps: config.jobs.analysisFps })));

    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const registered = await fetch(`${url}/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, name: 'Bench', password: 'bench-password-1' }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
    const { token } = await registered.json() as { token: string };
    const { body, contentType } = multipartBody([
      { name: 'session_id', value: `bench-${randomBytes(3).toString('hex')}` },
      { name: 'model', value: 'cx' },
      { name: 'front', filename: 'skier.jpg', type: 'image/jpeg', content: image },
      { name: 'left', filename: `walk-${seconds}s.mp4`, type: 'video/mp4', content: clip },
    ]);

    const load = loadavg();
    const t0 = performance.now();
    const upload = await fetch(`${url}/api/video/upload`, {
      method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${token}` }, body,
    });
    const uploadMs = performance.now() - t0;
    if (upload.status !== 201) throw new Error(`upload answered ${upload.status}: ${await upload.text()}`);
    const { analysis_id: id } = await upload.json() as { analysis_id: string };
    let startedMs: number | null = null;
    let detail: Record<string, unknown>;
    const deadline = t0 + 15 * 60_000;
    for (;;) {
      const r = await fetch(`${url}/api/analysis/${id}`, { headers: { authorization: `Bearer ${token}` } });
      detail = await r.json() as Record<string, unknown>;
      const now = performance.now() - t0;
      if (startedMs === null && detail.status !== 'pending') startedMs = now;
      if (detail.status === 'completed' || detail.status === 'failed') break;
      if (performance.now() > deadline) throw new Error(`analysis still ${String(detail.status)} after 15 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const totalMs = performance.now() - t0;
    if (detail.status !== 'completed') throw new Error(`analysis ${String(detail.status)}: ${String(detail.error)}`);
    // Signed URLs point at config.publicUrl; the same path and query on this listener.
    const signed = new URL((detail.analysis_json_urls as Record<string, string>).left!);
    const left = await (await fetch(`${url}${signed.pathname}${signed.search}`)).json() as { processed_frames: number; frame_skip: number };
    const queueWaitMs = (startedMs ?? totalMs) - uploadMs;
    const analysisMs = totalMs - (startedMs ?? totalMs);
    log(`analysis 2 views (image + ${seconds} s video, ${left.processed_frames} frames at frame step ${left.frame_skip}, `
      + `${estimator.size} workers): ${(totalMs / 1000).toFixed(1)} s from upload start to completed `
      + `(upload ${uploadMs.toFixed(0)} ms, queue ${queueWaitMs.toFixed(0)} ms, analysis ${(analysisMs / 1000).toFixed(1)} s) (load ${load})`);

    let bareMs: number | null = null;
    let outputsMs: number | null = null;
    if (bare) {
      const loadBare = loadavg();
      const b0 = performance.now();
      let videoResult: Awaited<ReturnType<typeof analyseViewMedia>> | undefined;
      for (const [input, view] of [[IMAGE, 'front'], [video, 'left']] as const) {
        videoResult = await analyseViewMedia(input, { estimator, model: 'cx', profile: 'stance', view, frameStep: config.jobs.frameStep ?? undefined, analysisFps: config.jobs.analysisFps });
      }
      bareMs = performance.now() - b0;
      log(`analysis bare (postura analyze work on the same 2 files, same pool): ${(bareMs / 1000).toFixed(1)} s; `
        + `API total / bare ${(totalMs / bareMs).toFixed(2)} (load ${loadBare})`);
      // What the video's pictures over time cost on their own: the overlay video and the chart (SVG + PNG).
      const o0 = performance.now();
      const overlayFile = path.join(dataDir, 'bench-overlay.mp4');
      await renderOverlayVideo(video, videoResult!, overlayFile);
      const overlayMs = performance.now() - o0;
      const chart = angleChartSvg(videoResult!);
      if (chart) await chartPng(chart.svg, { width: 1000 });
      outputsMs = performance.now() - o0;
      log(`video outputs: overlay video ${(overlayMs / 1000).toFixed(1)} s, chart SVG + PNG ${(outputsMs - overlayMs).toFixed(0)} ms; `
        + `outputs / bare ${(outputsMs / bareMs).toFixed(2)}`);
    }
    return {
      videoSeconds: seconds, frameStep: left.frame_skip, workers: estimator.size, videoFrames: left.processed_frames,
      uploadMs, queueWaitMs, analysisMs, totalMs, bareMs, outputsMs, status: String(detail.status), load,
      goals: [{ goal: `2-view analysis (image + ${seconds} s video) completes`, value: `${(totalMs / 1000).toFixed(1)} s`, met: detail.status === 'completed' }],
    };
  } finally {
    await app.close();
    await adapters.close();
    await estimator.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  runAnalysisBench({ seconds: arg('seconds') ? Number(arg('seconds')) : undefined, bare: !process.argv.includes('--no-bare') })
    .then((result) => console.log(JSON.stringify(result, null, 2)), (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
