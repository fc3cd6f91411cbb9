// `postura analyze`: a local analysis, no server needed, of one photo or video (text or `--json` on stdout, and the
// files asked for: overlay, charts, CSV, OpenSim) or of a batch (`--out DIR`: a folder, a glob or several files;
// see analyze-batch.ts). Progress goes to stderr. Where inputs are and whether every output can be written is
// checked before any analysis starts. Exit codes: 64 bad usage; 2 bad input, an output that cannot be written, a
// chosen person who is not there, or a batch with any file not ok; 3 nobody found in a single file; 1 the analysis
// itself failed.
import path from 'node:path';
import { analyseViewMedia, type DetailedResult } from '../analysis/view-analysis.ts';
import { estimateMedia, MediaError, sniffInput, type MediaPeople } from '../pose/analyze-media.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';
import { describeScale } from '../posture/index.ts';
import { formatValue } from '../posture/scoring.ts';
import { assertBatchWritable, planBatch, runBatch, type BatchInput } from './analyze-batch.ts';
import { expandInputs, InputError } from './analyze-inputs.ts';
import { ANALYZE_USAGE, parseAnalyzeArgs, UsageError, type AnalyzeArgs } from './analyze-options.ts';
import { writeOutputs } from './analyze-outputs.ts';
import { assertWritableFile, assertWritableFolder, OutputPathError } from './output-paths.ts';
import { ProgressDisplay, type ProgressStream } from './progress.ts';

export interface AnalyzeIo {
  stdout: { write(s: string): unknown };
  stderr: ProgressStream;
}

export interface AnalyzeHooks {
  /** Estimator to use (tests inject one); default: a worker pool for the chosen model, closed afterwards. */
  estimator?: PoseEstimator;
}

type Plan = { kind: 'file'; file: string } | { kind: 'batch'; inputs: BatchInput[]; out: string };

export async function runAnalyzeCommand(argv: string[], io: AnalyzeIo, hooks: AnalyzeHooks = {}): Promise<number> {
  let args: AnalyzeArgs;
  let plan: Plan;
  try {
    args = parseAnalyzeArgs(argv);
    plan = await planRun(args);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message ? `error: ${err.message}\n` : ''}${ANALYZE_USAGE}\n`);
      return err.message ? 64 : 0;
    }
    if (err instanceof OutputPathError || err instanceof InputError) {
      io.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof MediaError) {
      io.stderr.write(`error: ${args!.inputs[0]}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Only now, with every path checked, do the inference threads start.
  const ownEstimator = !hooks.estimator;
  const estimator = hooks.estimator ?? createPoseWorkerPool({ models: [args.model], size: args.workers });
  try {
    if (plan.kind === 'batch') return await runBatch(plan.inputs, { ...args, out: plan.out }, estimator, io);
    return await analyseFile(plan.file, args, estimator, io);
  } finally {
    if (ownEstimator) await estimator.close();
  }
}

/** One file or a batch, with every output path checked: nothing here analyses anything. */
async function planRun(args: AnalyzeArgs): Promise<Plan> {
  const expanded = await expandInputs(args.inputs);
  if (args.out !== undefined) {
    const inputs = planBatch(expanded.files);
    await assertBatchWritable(inputs, args.out);
    return { kind: 'batch', inputs, out: args.out };
  }
  if (expanded.batch) throw new UsageError(`${expanded.batch}: analyse a batch with --out DIR (a folder of results per file, and DIR/summary.csv)`);
  const file = expanded.files[0]!;
  const { overlay, plots } = args.outputs;
  for (const flag of ['overlay', 'csv', 'trc', 'mot'] as const) {
    const target = args.outputs[flag];
    if (target !== undefined) await assertWritableFile(target, `--${flag}`);
  }
  if (plots !== undefined) await assertWritableFolder(plots, '--plots');
  if (overlay !== undefined && /\.mp4$/i.test(overlay) && (await sniffInput(file)).kind === 'image') {
    throw new UsageError(`--overlay ${overlay}: an overlay video needs a video, and ${file} is a photo (use --overlay <name>.png)`);
  }
  return { kind: 'file', file };
}

async function analyseFile(file: string, args: AnalyzeArgs, estimator: PoseEstimator, io: AnalyzeIo): Promise<number> {
  let people: MediaPeople | undefined;
  let result: DetailedResult | undefined;
  const progress = new ProgressDisplay(io.stderr, 1);
  progress.startFile(1, path.basename(file));
  // A photo is one quick frame: no progress for it.
  const isVideo = (): boolean => people?.keyframe_interval !== 1;
  try {
    if (args.listPeople) {
      // Keyframes only: nobody's pose is estimated.
      for await (const _ of estimateMedia(file, { estimator, model: args.model, frameStep: args.frameStep, analysisFps: args.analysisFps, peopleOnly: true,
        onPeople: (p) => (people = p), onProgress: (done, total) => isVideo() && progress.progress(done / total) }));
    } else {
      // The same view pipeline as an uploaded analysis (analysis-runner.ts): same frames, same subject, same numbers.
      result = await analyseViewMedia(file, { estimator, model: args.model, view: args.view, profile: args.profile, frameStep: args.frameStep, analysisFps: args.analysisFps,
        subject: args.subject, subjectHeightCm: args.subjectHeightCm, onPeople: (p) => (people = p),
        onProgress: (f) => isVideo() && progress.progress(f), onFrames: (done, total) => isVideo() && progress.framesDone(done, total) });
    }
  } catch (err) {
    progress.finish();
    if (err instanceof MediaError) {
      io.stderr.write(`error: ${file}: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`error: analysis failed: ${(err as Error).message}\n`);
    return 1;
  }
  progress.finish();
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
  try {
    if (isVideo() && Object.values(args.outputs).some(Boolean)) progress.writing();
    const warnings = await writeOutputs(file, result, args.outputs, path.basename(file, path.extname(file)));
    progress.finish();
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
  } catch (err) {
    progress.finish();
    io.stderr.write(`error: could not write the results: ${(err as Error).message}\n`);
    return 1;
  }
  if (args.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else writeText(io, file, result);
  return result.frames_data.some((f) => f.keypoints) ? 0 : 3;
}

/** The result for a reader: every score in %, every measurement in its unit (° or cm) and how cm were scaled. */
function writeText(io: AnalyzeIo, file: string, result: DetailedResult): void {
  const aggregate = result.aggregated_results;
  const detected = result.frames_data.filter((f) => f.keypoints).length;
  io.stdout.write(`${file}: ${result.file_type} ${result.width}x${result.height}, model ${result.model}, ` +
    `${result.frames_data.length} frame(s) analysed, person found in ${detected}\n`);
  const confidence = result.view_confidence === null ? '' : ` in ${Math.round(100 * result.view_confidence)}% of frames`;
  const score = aggregate.overall_score === null ? 'n/a' : `${aggregate.overall_score}/100`;
  io.stdout.write(`view ${result.view} (detected ${result.detected_view ?? 'none'}${confidence}), profile ${result.profile}, overall score ${score}\n`);
  const scores = Object.entries(aggregate.raw_scores_percent);
  if (scores.length > 0) io.stdout.write('scores:\n');
  for (const [metric, percent] of scores) io.stdout.write(`  ${metric.padEnd(34)} ${String(percent).padStart(8)} %\n`);
  const measurements = Object.entries(aggregate.measurements);
  if (measurements.length > 0) io.stdout.write('measurements:\n');
  for (const [name, value] of measurements) {
    io.stdout.write(`  ${name.padEnd(34)} ${formatValue(value, result.units[name] ?? '').padStart(10)}\n`);
  }
  if (measurements.some(([name]) => result.units[name] === 'cm')) io.stdout.write(`${describeScale(result.scale)}\n`);
  for (const w of result.warnings) io.stdout.write(`warning: ${w}\n`);
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
