// `postura analyze <folder | "glob" | files…> --out DIR`: every input analysed in turn with the same options, each
// into a folder of its own (result.json, overlay, frames.csv, .trc, .mot, charts) and one row of DIR/summary.csv.
// A file that fails is a row with its error, never the end of the batch. Inputs run one after the other, each
// from scratch: a file's numbers are those it gets alone (frames run in parallel inside a file, and which thread
// runs a frame never changes what it computes).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { analyseViewMedia, type DetailedResult } from '../analysis/view-analysis.ts';
import { MediaError } from '../pose/analyze-media.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import type { AnalyzeArgs } from './analyze-options.ts';
import { writeOutputs } from './analyze-outputs.ts';
import { summaryCsv, type SummaryRow } from './analyze-summary.ts';
import { assertWritableFolder } from './output-paths.ts';
import type { AnalyzeIo } from './analyze.command.ts';
import { ProgressDisplay } from './progress.ts';

export interface BatchInput {
  file: string;
  /** The input's folder under --out, also the name of its charts and OpenSim files. */
  name: string;
}

const SUMMARY = 'summary.csv';

/**
 * Folder names: the file's stem; a stem that several inputs share keeps its extension (`run_mp4`), then a number
 * (`run_mp4-2`, for same-named files of different folders). Never `summary.csv`.
 */
export function planBatch(files: readonly string[]): BatchInput[] {
  const stem = (f: string): string => path.basename(f, path.extname(f));
  const shared = new Set(files.map(stem).filter((s, i, all) => all.indexOf(s) !== i));
  const used = new Set([SUMMARY]);
  return files.map((file) => {
    const extension = path.extname(file).slice(1);
    const base = shared.has(stem(file)) && extension ? `${stem(file)}_${extension}` : stem(file);
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return { file, name };
  });
}

/** Before any analysis: --out can be created or written, and no input's folder is taken by a file. */
export async function assertBatchWritable(inputs: readonly BatchInput[], out: string): Promise<void> {
  await assertWritableFolder(out, '--out');
  for (const { name } of inputs) await assertWritableFolder(path.join(out, name), '--out', { parentChecked: true });
}

/** Exit code 0 when every file was analysed with its subject found, else 2. */
export async function runBatch(inputs: readonly BatchInput[], args: AnalyzeArgs & { out: string }, estimator: PoseEstimator, io: AnalyzeIo): Promise<number> {
  await mkdir(args.out, { recursive: true });
  const progress = new ProgressDisplay(io.stderr, inputs.length);
  const rows: SummaryRow[] = [];
  for (const [i, input] of inputs.entries()) {
    progress.startFile(i + 1, path.basename(input.file));
    const row = await analyseOne(input, args, estimator, progress);
    progress.endFile(row.status);
    rows.push(row);
    // Rewritten after every file: a batch stopped half-way still leaves the summary of what it finished.
    await writeFile(path.join(args.out, SUMMARY), summaryCsv(args.profile, rows));
  }
  progress.finish();
  const ok = rows.filter((r) => r.status === 'ok').length;
  const nobody = rows.filter((r) => r.status === 'nobody found').length;
  io.stdout.write(`${rows.length} file(s): ${ok} ok, ${nobody} with nobody found, ${rows.length - ok - nobody} failed; ` +
    `summary: ${path.join(args.out, SUMMARY)}\n`);
  return ok === rows.length ? 0 : 2;
}

async function analyseOne(input: BatchInput, args: AnalyzeArgs & { out: string }, estimator: PoseEstimator, progress: ProgressDisplay): Promise<SummaryRow> {
  // A photo is one quick frame: its start and end lines say all there is.
  let photo = false;
  let result: DetailedResult;
  try {
    // The same view pipeline as an uploaded analysis (analysis-runner.ts): same frames, same subject, same numbers.
    result = await analyseViewMedia(input.file, {
      estimator, model: args.model, view: args.view, profile: args.profile, frameStep: args.frameStep, analysisFps: args.analysisFps, subject: args.subject,
      subjectHeightCm: args.subjectHeightCm, onPeople: (p) => (photo = p.keyframe_interval === 1),
      onProgress: (f) => photo || progress.progress(f), onFrames: (done, total) => photo || progress.framesDone(done, total),
    });
  } catch (err) {
    const message = err instanceof MediaError ? err.message : `analysis failed: ${(err as Error).message}`;
    return { file: input.file, status: `error: ${message}` };
  }
  if (result.subject.id === null && args.subject.kind !== 'auto') {
    return { file: input.file, status: `error: ${result.subject.rule}: nobody there`, result };
  }
  if (!photo) progress.writing();
  const folder = path.join(args.out, input.name);
  try {
    await mkdir(folder, { recursive: true });
    const overlay = result.file_type === 'video' ? 'overlay.mp4' : 'overlay.png';
    await writeOutputs(input.file, result, {
      json: path.join(folder, 'result.json'), csv: path.join(folder, 'frames.csv'), overlay: path.join(folder, overlay),
      trc: path.join(folder, `${input.name}.trc`), mot: path.join(folder, `${input.name}.mot`), plots: folder,
    }, input.name);
  } catch (err) {
    return { file: input.file, status: `error: could not write the results in ${folder}: ${(err as Error).message}`, result };
  }
  const found = result.frames_data.some((f) => f.keypoints);
  return { file: input.file, status: found ? 'ok' : 'nobody found', result };
}
