// `postura analyze <file> [--model cx] [--view left|right|front|back|auto] [--json] [--overlay out.png]
//  [--frame-step N] [--workers N] [--height-cm N] [--person N | --person-at X,Y[@T]] [--list-people]`: a local
// one-shot analysis. Progress on stderr for videos; `--json` prints one document shaped like SPEC section 3's
// detailed result. Bad options: exit code 64; bad input (or a chosen person who is not there): one clear line on
// stderr and exit code 2.
import { writeFile } from 'node:fs/promises';
import { analyseViewMedia, type DetailedResult } from '../analysis/view-analysis.ts';
import { grabFrame } from '../pose/frame-grab.ts';
import { estimateMedia, MediaError, type MediaPeople } from '../pose/analyze-media.ts';
import { DEFAULT_MODEL, DEFAULT_PUBLIC_MODELS, listModels } from '../pose/model-registry.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { parseSubjectChoice, type SubjectChoice } from '../pose/subject-tracks.ts';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';
import { describeScale, listProfiles, SUBJECT_HEIGHT_RANGE_CM } from '../posture/index.ts';
import type { UploadView } from '../posture/index.ts';


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
  view: UploadView;
  profile: string;
  json: boolean;
  overlay?: string;
  frameStep: number;
  workers?: number;
  /** Who to analyse when several people are in the picture. */
  subject: SubjectChoice;
  listPeople: boolean;
  /** The subject's height in cm: the scale of every cm value (else estimated from body proportions). */
  subjectHeightCm?: number;
}

const USAGE = 'usage: postura analyze <file> [--model cx] [--view left|right|front|back|auto] [--profile stance|upright] [--json] [--overlay out.png] [--frame-step 2] [--workers N] [--height-cm 175] [--person N | --person-at X,Y[@T]] [--list-people]';

class UsageError extends Error {}

function parseArgs(argv: string[]): AnalyzeArgs {
  const args: Partial<AnalyzeArgs> = { model: DEFAULT_MODEL, view: 'auto', profile: 'stance', json: false, frameStep: 2, subject: { kind: 'auto' }, listPeople: false };
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
        args.view = v as UploadView;
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
      case '--height-cm': {
        const n = Number(value());
        const { min, max } = SUBJECT_HEIGHT_RANGE_CM;
        if (!(n >= min && n <= max)) throw new UsageError(`--height-cm must be the subject's height in centimetres, from ${min} to ${max}`);
        args.subjectHeightCm = n;
        break;
      }
      // One parser with the upload's `person` field (subject-tracks.ts); each flag takes only its own form.
      case '--person': {
        const choice = parseSubjectChoice(value());
        if (choice?.kind !== 'id') throw new UsageError('--person must be a person number from --list-people');
        args.subject = choice;
        break;
      }
      case '--person-at': {
        const choice = parseSubjectChoice(value());
        if (choice?.kind !== 'point') throw new UsageError('--person-at takes X,Y in pixels of the original picture, optionally @T seconds (e.g. 640,360@2.5)');
        args.subject = choice;
        break;
      }
      case '--list-people': args.listPeople = true; break;
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

/** `--list-people`: everybody found on the keyframes, the subject marked, as a table or JSON. */
function writePeople(io: AnalyzeIo, found: MediaPeople, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(found)}\n`);
    return;
  }
  if (found.people.length === 0) io.stdout.write('nobody found\n');
  for (const p of found.people) {
    const b = p.mean_box;
    io.stdout.write(`${p.id === found.subject.id ? '*' : ' '} person ${p.id}: seen on ${p.keyframes_seen} of ${p.keyframes_total} keyframes, ` +
      `${p.first_seen_s}–${p.last_seen_s} s, mean box ${b.width}×${b.height} at (${b.x}, ${b.y})\n`);
  }
  io.stdout.write(`subject: ${found.subject.id === null ? 'none' : `person ${found.subject.id}`} (${found.subject.rule})\n`);
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
  let people: MediaPeople | undefined;
  let result: DetailedResult | undefined;
  let progressShown = false;
  const bar = progressBar(io);
  const onProgress = (fraction: number): void => {
    if (people?.keyframe_interval === 1) return;
    progressShown = true;
    bar(Math.round(fraction * 1000), 1000);
  };
  try {
    if (args.listPeople) {
      // Keyframes only: nobody's pose is estimated.
      for await (const _ of estimateMedia(args.file, { estimator, model: args.model, frameStep: args.frameStep, peopleOnly: true,
        onPeople: (p) => (people = p), onProgress: (done, total) => onProgress(done / total) }));
    } else {
      // The same view pipeline as an uploaded analysis (analysis-runner.ts): same frames, same subject, same numbers.
      result = await analyseViewMedia(args.file, { estimator, model: args.model, view: args.view, profile: args.profile, frameStep: args.frameStep,
        subject: args.subject, subjectHeightCm: args.subjectHeightCm, onPeople: (p) => (people = p), onProgress });
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
  if (args.listPeople) {
    writePeople(io, people!, args.json);
    return 0;
  }
  if (people && people.subject.id === null && args.subject.kind !== 'auto') {
    io.stderr.write(`error: ${people.subject.rule}: nobody there. People found (--list-people):\n`);
    writePeople({ stdout: io.stderr, stderr: io.stderr }, people, false);
    return 2;
  }
  if (!result) throw new Error('analysis produced no result');
  const frames = result.frames_data;
  const info = { file_type: result.file_type, width: result.width, height: result.height };
  const detected = frames.filter((f) => f.keypoints).length;
  if (args.overlay) {
    // Loaded only when asked for: the overlay brings sharp, which a video-only run does not otherwise need.
    const { overlayContent } = await import('../overlay/overlay-content.ts');
    const content = overlayContent(result);
    if (!content) {
      io.stderr.write('warning: no person found, so no overlay was drawn\n');
    } else {
      const { renderOverlayPng } = await import('../overlay/overlay.ts');
      // The picture is the content's own frame, grabbed at that frame's time: drawing and numbers are one frame.
      const picture = await grabFrame(args.file, result.file_type, content.frame.timestamp);
      await writeFile(args.overlay, await renderOverlayPng(picture, content));
    }
  }
  if (args.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const aggregate = result.aggregated_results;
    io.stdout.write(`${args.file}: ${info.file_type} ${info.width}x${info.height}, model ${args.model}, ` +
      `${frames.length} frame(s) analysed, person found in ${detected}\n`);
    const confidence = result.view_confidence === null ? '' : ` in ${Math.round(100 * result.view_confidence)}% of frames`;
    io.stdout.write(`view ${result.view} (detected ${result.detected_view ?? 'none'}${confidence}), profile ${result.profile}, ` +
      `overall score ${aggregate.overall_score ?? 'n/a'}\n`);
    for (const [metric, percent] of Object.entries(aggregate.raw_scores_percent)) {
      io.stdout.write(`  ${metric.padEnd(26)} ${String(percent).padStart(6)} %\n`);
    }
    for (const [name, value] of Object.entries(aggregate.measurements)) {
      io.stdout.write(`  ${name.padEnd(34)} ${String(value).padStart(8)}\n`);
    }
    if (Object.keys(aggregate.measurements).some((name) => result.units[name] === 'cm')) io.stdout.write(`${describeScale(result.scale)}\n`);
    for (const w of result.warnings) io.stdout.write(`warning: ${w}\n`);
  }
  return detected === 0 ? 3 : 0;
}
