// `npm run eval`: pose accuracy on ../shared/data/dev. PCK@0.2 (torso-normalised) per model and per keypoint, and
// the error of knee/hip/elbow/trunk angles from predicted vs ground-truth keypoints. Runs models in-process.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../src/pose/image-decoder.ts';
import { PoseEngine } from '../src/pose/pose-engine.ts';
import { MoveNetRunner } from '../src/pose/movenet-runner.ts';
import { fullImageRoi } from '../src/pose/image-ops.ts';
import { bodyCropRoi } from '../src/pose/person-geometry.ts';
import { angleErrors, pckHits, type GtKeypoint } from '../src/pose/pose-metrics.ts';
import { COCO_KEYPOINT_NAMES, type Keypoint, type RgbImage } from '../src/pose/pose-types.ts';

interface DevImage {
  file: string;
  annotations: Array<{ keypoints: GtKeypoint[] }>;
}

export interface ModelScore {
  model: string;
  pck: number;
  pckPerImage: number;
  angleError: number;
  perKeypoint: Record<string, number>;
  perAngle: Record<string, number>;
  msPerImage: number;
  missed: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEV_DIR = path.resolve(repoRoot, '../shared/data/dev');

/** "Run, crop, run again" MoveNet Thunder: the reference the engine must beat. */
async function baseline(runner: MoveNetRunner, img: RgbImage): Promise<Keypoint[]> {
  const kps = await runner.run(img, fullImageRoi(img));
  const roi = bodyCropRoi(kps);
  return roi ? runner.run(img, roi) : kps;
}

/** The annotated person the prediction is about: the one it matches best. */
function matchGt(pred: Keypoint[], people: DevImage['annotations']): GtKeypoint[] {
  let best = people[0]!.keypoints;
  let bestHits = -1;
  for (const p of people) {
    const hits = pckHits(pred, p.keypoints).filter((h) => h === true).length;
    if (hits > bestHits) [best, bestHits] = [p.keypoints, hits];
  }
  return best;
}

export async function evaluate(models: string[], log = console.log): Promise<ModelScore[]> {
  const ann = JSON.parse(readFileSync(path.join(DEV_DIR, 'annotations.json'), 'utf8')) as { images: DevImage[] };
  const images = await Promise.all(ann.images.map(async (im) => ({ im, img: await decodeImage(path.join(DEV_DIR, im.file)) })));
  const engine = new PoseEngine();
  const scores: ModelScore[] = [];
  for (const model of models) {
    const isBaseline = model === 'baseline-thunder';
    const runner = isBaseline ? await MoveNetRunner.load('movenet-thunder') : undefined;
    if (!isBaseline) await engine.preload([model]);
    let hits = 0;
    let labelled = 0;
    let perImage = 0;
    let missed = 0;
    const kpHits = COCO_KEYPOINT_NAMES.map(() => [0, 0]);
    const angleSum: Record<string, [number, number]> = {};
    const t0 = performance.now();
    for (const { im, img } of images) {
      const pred = runner ? await baseline(runner, img) : (await engine.estimate(img, { model }))?.keypoints;
      if (!pred) missed++;
      const kps: Keypoint[] = pred ?? COCO_KEYPOINT_NAMES.map(() => [-1e6, -1e6, 0]);
      const gt = matchGt(kps, im.annotations);
      const h = pckHits(kps, gt);
      let imHits = 0;
      let imN = 0;
      h.forEach((v, i) => {
        if (v === null) return;
        kpHits[i]![1]!++;
        imN++;
        if (v) {
          kpHits[i]![0]!++;
          imHits++;
        }
      });
      hits += imHits;
      labelled += imN;
      perImage += imN ? imHits / imN : 0;
      if (pred) {
        for (const [name, err] of Object.entries(angleErrors(kps, gt))) {
          const a = (angleSum[name] ??= [0, 0]);
          a[0] += err;
          a[1]++;
        }
      }
    }
    const ms = (performance.now() - t0) / images.length;
    runner?.dispose();
    const allAngles = Object.values(angleSum).reduce((s, [e, n]) => [s[0] + e, s[1] + n], [0, 0]);
    const score: ModelScore = {
      model,
      pck: hits / labelled,
      pckPerImage: perImage / images.length,
      angleError: allAngles[1] ? allAngles[0] / allAngles[1] : NaN,
      perKeypoint: Object.fromEntries(COCO_KEYPOINT_NAMES.map((n, i) => [n, kpHits[i]![1] ? kpHits[i]![0]! / kpHits[i]![1]! : NaN])),
      perAngle: Object.fromEntries(Object.entries(angleSum).map(([n, [e, c]]) => [n, e / c])),
      msPerImage: ms,
      missed,
    };
    scores.push(score);
    log(
      `${model.padEnd(22)} PCK@0.2 ${score.pck.toFixed(3)} (per image ${score.pckPerImage.toFixed(3)})  ` +
        `angle error ${score.angleError.toFixed(1)}°  ${ms.toFixed(0)} ms/image  missed ${missed}/${images.length}`,
    );
  }
  await engine.dispose();
  return scores;
}

function printTables(scores: ModelScore[], log = console.log): void {
  const head = (label: string, cols: string[]) => log(`\n${label.padEnd(16)}${cols.map((c) => c.slice(0, 12).padStart(13)).join('')}`);
  head('keypoint', scores.map((s) => s.model));
  for (const name of COCO_KEYPOINT_NAMES) {
    log(`${name.padEnd(16)}${scores.map((s) => (Number.isNaN(s.perKeypoint[name]) ? '-' : s.perKeypoint[name]!.toFixed(2)).padStart(13)).join('')}`);
  }
  head('angle error °', scores.map((s) => s.model));
  for (const name of Object.keys(scores[0]?.perAngle ?? {})) {
    log(`${name.padEnd(16)}${scores.map((s) => (s.perAngle[name]?.toFixed(1) ?? '-').padStart(13)).join('')}`);
  }
}

async function main(): Promise<void> {
  if (!existsSync(path.join(DEV_DIR, 'annotations.json'))) {
    console.log(`eval skipped: dev set not found at ${DEV_DIR}`);
    return;
  }
  const arg = process.argv.find((a) => a.startsWith('--models='));
  const models = arg
    ? arg.slice('--models='.length).split(',')
    : ['baseline-thunder', 'cx', 'gy', 'movenet-thunder-flip', 'movenet-lightning', 'blazepose-heavy'];
  console.log(`pose eval on ${DEV_DIR}`);
  const scores = await evaluate(models);
  printTables(scores);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
