// `npm run eval`: pose accuracy on ../shared/data/dev (12 images). Two parts:
// 1. plain dev figures per model: PCK@0.2 (torso-normalised) per model and per keypoint, and the error of
//    knee/hip/elbow/trunk angles from predicted vs ground-truth keypoints;
// 2. cross-validated figures for the search methods of cx and gy: every candidate below is scored on every image,
//    then leave-one-image-out chooses a candidate on 11 images and scores it on the 12th. A choice that only helps
//    the plain figure shows up as a cross-validated figure no better than the fixed alternatives.
// Runs the models in-process; each (model, method) is computed once per image and reused by every fold.
// Flags: --models=a,b (plain part), --cv=cx,gy (cross-validated part; --cv= for none).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../src/pose/image-decoder.ts';
import { fullImageRoi } from '../src/pose/image-ops.ts';
import { getModelSpec, type SearchMethod } from '../src/pose/model-registry.ts';
import { MoveNetRunner } from '../src/pose/movenet-runner.ts';
import { bodyCropRoi } from '../src/pose/person-geometry.ts';
import { PoseEngine } from '../src/pose/pose-engine.ts';
import {
  angleErrors,
  hipOffset,
  leaveOneOut,
  pckHits,
  poolScores,
  scoreImage,
  selectionLoss,
  type GtKeypoint,
  type ImageScore,
  type PooledScore,
} from '../src/pose/pose-metrics.ts';
import { COCO_KEYPOINT_NAMES, type Keypoint, type RgbImage } from '../src/pose/pose-types.ts';

interface DevImage {
  file: string;
  annotations: Array<{ keypoints: GtKeypoint[] }>;
}

/** One way to search, tried by cross-validation. `uses` names the methods it relies on, for the ablations. */
interface Candidate {
  name: string;
  method: Partial<SearchMethod>;
  uses: string[];
}

/**
 * The candidates, fixed before scoring. cx: MoveNet Thunder crops. "two crops" = the locator's crop and MoveNet's
 * body crop merged; "agree" = their points are averaged within that share of the body crop, otherwise the
 * best-supported point wins (8 % everywhere else). gy: BlazePose full, first crop from the locator or the detector.
 * Every field a candidate varies is set here, so the candidates do not move when a model's shipped choice does.
 */
const TWO_CROPS: Partial<SearchMethod> = { flip: false, agreeRatio: 0.08, boxScale: 1.3, bodyScales: [1], keepFirst: true };
const BODY_CROP: Partial<SearchMethod> = { ...TWO_CROPS, keepFirst: false };
const ONE_CROP: Partial<SearchMethod> = { ...TWO_CROPS, bodyScales: [] };
const BLAZE: Partial<SearchMethod> = { flip: false, agreeRatio: 0.05, crop: 'locator', realign: true };
const CANDIDATES: Record<string, Candidate[]> = {
  cx: [
    { name: 'one crop (locator box)', method: { ...ONE_CROP }, uses: [] },
    { name: 'body crop', method: { ...BODY_CROP }, uses: [] },
    { name: 'two crops, agree 5 %', method: { ...TWO_CROPS, agreeRatio: 0.05 }, uses: ['two crops', 'tuned agree'] },
    { name: 'two crops, agree 8 % (old cx)', method: { ...TWO_CROPS }, uses: ['two crops'] },
    { name: 'two crops, agree 12 %', method: { ...TWO_CROPS, agreeRatio: 0.12 }, uses: ['two crops', 'tuned agree'] },
    { name: 'two crops, plain mean', method: { ...TWO_CROPS, agreeRatio: Infinity }, uses: ['two crops'] },
    { name: 'body crop + flip', method: { ...BODY_CROP, flip: true }, uses: ['flip'] },
    { name: 'two crops + flip', method: { ...TWO_CROPS, flip: true }, uses: ['two crops', 'flip'] },
    { name: 'body crop ×0.9/1/1.15', method: { ...BODY_CROP, bodyScales: [1, 0.9, 1.15] }, uses: ['multi-scale'] },
    { name: 'body crop ×0.9/1/1.15 + flip', method: { ...BODY_CROP, bodyScales: [1, 0.9, 1.15], flip: true }, uses: ['multi-scale', 'flip'] },
  ],
  gy: [
    { name: 'detector crop (old gy)', method: { ...BLAZE, crop: 'detector' }, uses: ['detector crop'] },
    { name: 'detector crop + flip', method: { ...BLAZE, crop: 'detector', flip: true }, uses: ['detector crop', 'flip'] },
    { name: 'locator crop, no realign', method: { ...BLAZE, realign: false }, uses: ['locator crop'] },
    { name: 'locator crop', method: { ...BLAZE }, uses: ['locator crop', 'realign'] },
    { name: 'locator crop + flip, no realign', method: { ...BLAZE, realign: false, flip: true }, uses: ['locator crop', 'flip'] },
    { name: 'locator crop + flip', method: { ...BLAZE, flip: true }, uses: ['locator crop', 'realign', 'flip'] },
  ],
};

interface Run {
  preds: Array<Keypoint[] | null>;
  scores: ImageScore[];
  /** The annotated person each prediction was scored against. */
  matched: Array<readonly GtKeypoint[]>;
  msPerImage: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEV_DIR = path.resolve(repoRoot, '../shared/data/dev');

/** "Run, crop, run again" MoveNet Thunder on the whole image: the reference the engine must beat. */
async function baseline(runner: MoveNetRunner, img: RgbImage): Promise<Keypoint[]> {
  const kps = await runner.run(img, fullImageRoi(img));
  const roi = bodyCropRoi(kps);
  return roi ? runner.run(img, roi) : kps;
}

class DevSet {
  private readonly runs = new Map<string, Run>();
  private readonly engine = new PoseEngine();

  private constructor(readonly images: Array<{ im: DevImage; img: RgbImage }>) {}

  static async load(): Promise<DevSet> {
    const ann = JSON.parse(readFileSync(path.join(DEV_DIR, 'annotations.json'), 'utf8')) as { images: DevImage[] };
    return new DevSet(await Promise.all(ann.images.map(async (im) => ({ im, img: await decodeImage(path.join(DEV_DIR, im.file)) }))));
  }

  /** Predictions and scores of `model` with `method` over every image; computed once per resolved method. */
  async run(model: string, method: Partial<SearchMethod> = {}): Promise<Run> {
    const isBaseline = model === 'baseline-thunder';
    const spec = isBaseline ? undefined : getModelSpec(model);
    const key = spec ? `${spec.family}:${spec.file}:${spec.flip}:${JSON.stringify({ ...spec.search, ...method })}` : model;
    const cached = this.runs.get(key);
    if (cached) return cached;
    const runner = isBaseline ? await MoveNetRunner.load('movenet-thunder') : undefined;
    // Models and the locator load, and every model this method runs does its first (slow) inference, before the
    // clock starts: ms/image is the steady cost of the method.
    if (!isBaseline) await this.engine.preload([model], { locator: true });
    const first = this.images[0]!.img;
    await (runner ? baseline(runner, first) : this.engine.estimate(first, { model, searchMethod: method }));
    const preds: Array<Keypoint[] | null> = [];
    const t0 = performance.now();
    for (const { img } of this.images) {
      preds.push(runner ? await baseline(runner, img) : ((await this.engine.estimate(img, { model, searchMethod: method }))?.keypoints ?? null));
    }
    const msPerImage = (performance.now() - t0) / this.images.length;
    runner?.dispose();
    const scored = preds.map((p, i) => scoreImage(p, this.images[i]!.im.annotations.map((a) => a.keypoints)));
    const run = { preds, msPerImage, scores: scored, matched: scored.map((x) => x.gt) };
    this.runs.set(key, run);
    return run;
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }
}

const fmt = (p: PooledScore): string => `PCK ${p.pck.toFixed(3)}  angle ${p.angleError.toFixed(1).padStart(4)}°`;

async function plainFigures(dev: DevSet, models: string[], log: (s: string) => void): Promise<void> {
  log('\nPlain dev figures (one prediction per image, scored against the annotated person it matches best)');
  log(`${'model'.padEnd(22)}${'PCK@0.2'.padStart(8)}${'angle'.padStart(8)}${'ms/img'.padStart(8)}${'missed'.padStart(8)}${'hip offset'.padStart(12)}`);
  const perKeypoint: Array<{ model: string; rates: number[]; angles: Record<string, number> }> = [];
  for (const model of models) {
    const run = await dev.run(model);
    const p = poolScores(run.scores);
    const hips = run.preds.flatMap((pred, i) => (pred ? [hipOffset(pred, run.matched[i]!)] : [])).filter((x): x is number => x !== null);
    const hip = hips.length ? hips.reduce((a, b) => a + b, 0) / hips.length : NaN;
    log(
      `${model.padEnd(22)}${p.pck.toFixed(3).padStart(8)}${(p.angleError.toFixed(1) + '°').padStart(8)}${run.msPerImage.toFixed(0).padStart(8)}` +
        `${`${run.preds.filter((x) => !x).length}/${run.preds.length}`.padStart(8)}${hip.toFixed(3).padStart(12)}`,
    );
    perKeypoint.push({ model, ...keypointTable(run) });
  }
  log('(hip offset: predicted hip centre minus true one along the body axis, torso sizes; > 0 = higher)');
  const head = (label: string): void => log(`\n${label.padEnd(16)}${perKeypoint.map((s) => s.model.slice(0, 12).padStart(13)).join('')}`);
  head('keypoint');
  COCO_KEYPOINT_NAMES.forEach((name, i) => log(`${name.padEnd(16)}${perKeypoint.map((s) => (Number.isNaN(s.rates[i]) ? '-' : s.rates[i]!.toFixed(2)).padStart(13)).join('')}`));
  head('angle error °');
  for (const name of Object.keys(perKeypoint[0]?.angles ?? {})) {
    log(`${name.padEnd(16)}${perKeypoint.map((s) => (s.angles[name]?.toFixed(1) ?? '-').padStart(13)).join('')}`);
  }
}

function keypointTable(run: Run): { rates: number[]; angles: Record<string, number> } {
  const counts = COCO_KEYPOINT_NAMES.map(() => [0, 0] as [number, number]);
  const angles: Record<string, [number, number]> = {};
  run.preds.forEach((pred, i) => {
    const gt = run.matched[i]!;
    const kps = pred ?? COCO_KEYPOINT_NAMES.map((): Keypoint => [-1e6, -1e6, 0]);
    pckHits(kps, gt).forEach((hit, k) => {
      if (hit === null) return;
      counts[k]![1]++;
      if (hit) counts[k]![0]++;
    });
    if (!pred) return;
    for (const [name, err] of Object.entries(angleErrors(pred, gt))) {
      const a = (angles[name] ??= [0, 0]);
      a[0] += err;
      a[1]++;
    }
  });
  return {
    rates: counts.map(([h, n]) => (n ? h / n : NaN)),
    angles: Object.fromEntries(Object.entries(angles).map(([n, [e, c]]) => [n, e / c])),
  };
}

async function crossValidated(dev: DevSet, model: string, log: (s: string) => void): Promise<void> {
  const candidates = CANDIDATES[model];
  if (!candidates) throw new Error(`no candidates for ${model}; have ${Object.keys(CANDIDATES).join(', ')}`);
  const spec = getModelSpec(model);
  log(`\n${model} (${spec.file}): ${candidates.length} candidate search methods`);
  log(`  ${'candidate'.padEnd(34)}${'PCK'.padStart(7)}${'angle'.padStart(8)}${'loss'.padStart(7)}${'ms/img'.padStart(8)}  per-image hits`);
  const scored: Array<{ name: string; scores: ImageScore[]; uses: string[] }> = [];
  for (const c of candidates) {
    const run = await dev.run(model, c.method);
    const p = poolScores(run.scores);
    const shipped = JSON.stringify({ ...spec.search, ...c.method }) === JSON.stringify(spec.search) ? ' *' : '';
    log(
      `  ${(c.name + shipped).padEnd(34)}${p.pck.toFixed(3).padStart(7)}${(p.angleError.toFixed(1) + '°').padStart(8)}` +
        `${selectionLoss(p).toFixed(1).padStart(7)}${run.msPerImage.toFixed(0).padStart(8)}  ${run.scores.map((s) => `${s.hits}/${s.labelled}`).join(' ')}`,
    );
    scored.push({ name: c.name, scores: run.scores, uses: c.uses });
  }
  const best = scored.reduce((a, b) => (selectionLoss(poolScores(b.scores)) < selectionLoss(poolScores(a.scores)) ? b : a));
  log(`  (* shipped; loss = angle error + 100 × (1 − PCK), what the folds minimise)`);
  log(`  best on all 12 (plain):        ${fmt(poolScores(best.scores))}  ${best.name}`);
  const all = leaveOneOut(scored);
  log(`  leave-one-image-out (CV):      ${fmt(all)}  chosen: ${tally(all.chosen)}`);
  const methods = [...new Set(scored.flatMap((c) => c.uses))];
  for (const m of methods) {
    const rest = scored.filter((c) => !c.uses.includes(m));
    if (rest.length === 0) continue;
    const cv = leaveOneOut(rest);
    const restBest = rest.reduce((a, b) => (selectionLoss(poolScores(b.scores)) < selectionLoss(poolScores(a.scores)) ? b : a));
    log(`  without ${`"${m}"`.padEnd(16)} CV ${fmt(cv)}  (plain best ${fmt(poolScores(restBest.scores))})`);
  }
}

function tally(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => `${n} ×${c}`).join(', ');
}

async function main(): Promise<void> {
  if (!existsSync(path.join(DEV_DIR, 'annotations.json'))) {
    console.log(`eval skipped: dev set not found at ${DEV_DIR}`);
    return;
  }
  const arg = (name: string): string[] | undefined => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a === undefined ? undefined : a.slice(name.length + 3).split(',').filter(Boolean);
  };
  const models = arg('models') ?? ['baseline-thunder', 'cx', 'gy', 'movenet-thunder-flip', 'movenet-lightning', 'blazepose-heavy'];
  const cv = arg('cv') ?? ['cx', 'gy'];
  const dev = await DevSet.load();
  console.log(`pose eval on ${DEV_DIR} (${dev.images.length} images)`);
  if (models.length) await plainFigures(dev, models, console.log);
  if (cv.length) console.log('\nCross-validated figures: leave one image out, choose on the other 11 by the loss, score the held-out one');
  for (const model of cv) await crossValidated(dev, model, console.log);
  await dev.dispose();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
