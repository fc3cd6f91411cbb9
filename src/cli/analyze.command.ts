// `postura analyze <file> [--model cx] [--view left|right|front|back|auto] [--json] [--overlay out.png]
//  [--frame-step N] [--workers N]`: a local one-shot analysis. Progress on stderr for videos; `--json` prints one
// document shaped like SPEC section 3's detailed result. Bad input: one clear line on stderr and exit code 2.
import { writeFile } from 'node:fs/promises';
import { buildDetailedResult } from '../analysis/view-analysis.ts';
import { grabFrame } from '../media/frame-grab.ts';
import { estimateMedia, MediaError, type MediaInfo, type PoseFrame } from '../pose/analyze-media.ts';
import { DEFAULT_MODEL, DEFAULT_PUBLIC_MODELS, listModels } from '../pose/model-registry.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';
import { listProfiles } from '../posture/index.ts';

export type AnalyzeView = 'left' | 'right' | 'front' | 'back' | 'auto';

export interface AnalyzeIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export interface AnalyzeHooks {
  /** Estimator to use (tests inject one); default: a worker pool for the chosen model, closed afterwards. */
  estimator?: PoseEstimator;
}

interface AnalyzeArgs {
  file: string;
  model: string;
  view: AnalyzeView;
  profile: string;
  json: boolean;
  overlay?: string;
  frameStep: number;
  workers?: number;
}

const USAGE = 'usage: postura analyze <file> [--model cx] [--view left|right|front|back|auto] [--profile stance|upright] [--json] [--overlay out.png] [--frame-step 2] [--workers N]';

class UsageError extends Error {}

function parseArgs(argv: string[]): AnalyzeArgs {
  const args: Partial<AnalyzeArgs> = { model: DEFAULT_MODEL, view: 'auto', profile: 'stance', json: false, frameStep: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`missing value for ${flag}`);
      return v;
    };
    switch (flag) {
      case '--model': args.model = value(); break;
      case '--view': {
        const v = value();
        if (!['left', 'right', 'front', 'back', 'auto'].includes(v)) throw new UsageError(`invalid view: ${v}`);
        args.view = v as AnalyzeView;
        break;
      }
      case '--profile': {
        const v = value();
        if (!listProfiles().includes(v)) throw new UsageError(`invalid profile: ${v}. Available profiles: ${listProfiles().join(', ')}`);
        args.profile = v;
        break;
      }
      case '--json': args.json = true; break;
      case '--overlay': args.overlay = value(); break;
      case '--frame-step': case '--frame-skip': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new UsageError('--frame-step must be a positive integer');
        args.frameStep = n;
        break;
      }
      case '--workers': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new UsageError('--workers must be a positive integer');
        args.workers = n;
        break;
      }
      case '-h': case '--help': throw new UsageError('');
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option: ${a}`);
        if (args.file) throw new UsageError(`unexpected argument: ${a}`);
        args.file = a;
    }
  }
  if (!args.file) throw new UsageError('missing <file>');
  if (!listModels().includes(args.model!)) {
    throw new UsageError(`Invalid model: ${args.model}. Available models: ${[...DEFAULT_PUBLIC_MODELS].join(', ')}`);
  }
  return args as AnalyzeArgs;
}

function progressBar(io: AnalyzeIo): (done: number, total: number) => void {
  let last = -1;
  // A terminal gets a bar redrawn in place; a log file or pipe gets a line per quarter.
  const step = io.stderr.isTTY ? 1 : 25;
  return (done, total) => {
    const pct = Math.min(100, Math.floor((done / Math.max(1, total)) * 100));
    const bucket = Math.floor(pct / step) * step;
    if (bucket === last) return;
    last = bucket;
    if (!io.stderr.isTTY) {
      io.stderr.write(`${bucket}% ${done}/${total} frames\n`);
      return;
    }
    const width = 30;
    const fill = Math.round((pct / 100) * width);
    io.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}% ${done}/${total} frames`);
  };
}

export async function runAnalyzeCommand(argv: string[], io: AnalyzeIo, hooks: AnalyzeHooks = {}): Promise<number> {
  let args: AnalyzeArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message ? `error: ${err.message}\n` : ''}${USAGE}\n`);
      return err.message ? 64 : 0;
    }
    throw err;
  }
  const ownEstimator = !hooks.estimator;
  const estimator = hooks.estimator ?? createPoseWorkerPool({ models: [args.model], size: args.workers });
  let info: MediaInfo | undefined;
  const frames: PoseFrame[] = [];
  let progressShown = false;
  const bar = progressBar(io);
  try {
    for await (const f of estimateMedia(args.file, {
      estimator,
      model: args.model,
      frameStep: args.frameStep,
      inFlight: 4,
      onInfo: (i) => (info = i),
      onProgress: (done, total) => {
        if (info?.file_type !== 'video') return;
        progressShown = true;
        bar(done, total);
      },
    })) {
      frames.push(f);
    }
    if (progressShown && io.stderr.isTTY) io.stderr.write('\n');
  } catch (err) {
    if (progressShown) io.stderr.write('\n');
    if (err instanceof MediaError) {
      io.stderr.write(`error: ${args.file}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`error: analysis failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (ownEstimator) await estimator.close();
  }
  const result = buildDetailedResult(info!, frames, args);
  const detected = frames.filter((f) => f.keypoints).length;
  if (args.overlay) {
    const frame = result.representative_frame;
    const keypoints = result.frames_data.find((f) => f.frame_index === frame?.frame_index)?.keypoints;
    if (!frame || !keypoints) {
      io.stderr.write('warning: no person found, so no overlay was drawn\n');
    } else {
      // Loaded only when asked for: the overlay brings sharp, which a video-only run does not otherwise need.
      const { renderOverlayPng } = await import('../overlay/overlay.ts');
      const picture = await grabFrame(args.file, result.file_type, frame.timestamp);
      await writeFile(args.overlay, await renderOverlayPng(picture, keypoints, result.aggregated_results && {
        profile: result.profile, view: result.view as never, raw_scores_percent: result.aggregated_results.raw_scores_percent,
        score: result.aggregated_results.score,
      }, { title: `${result.view} view · score ${result.aggregated_results.overall_score ?? 'n/a'}` }));
    }
  }
  if (args.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const aggregate = result.aggregated_results;
    io.stdout.write(`${args.file}: ${info!.file_type} ${info!.width}x${info!.height}, model ${args.model}, ` +
      `${frames.length} frame(s) analysed, person found in ${detected}\n`);
    io.stdout.write(`view ${result.view} (detected ${result.detected_view}), profile ${result.profile}, ` +
      `overall score ${aggregate.overall_score ?? 'n/a'}\n`);
    for (const [metric, percent] of Object.entries(aggregate.raw_scores_percent)) {
      io.stdout.write(`  ${metric.padEnd(26)} ${String(percent).padStart(6)} %\n`);
    }
    for (const [name, value] of Object.entries(aggregate.measurements)) {
      io.stdout.write(`  ${name.padEnd(34)} ${String(value).padStart(8)}\n`);
    }
    for (const w of result.warnings) io.stdout.write(`warning: ${w}\n`);
  }
  return detected === 0 ? 3 : 0;
}
