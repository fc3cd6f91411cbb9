import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from './image-decoder.ts';
import { PoseEngine } from './pose-engine.ts';
import { pckHits, torsoSize, type GtKeypoint } from './pose-metrics.ts';
import { COCO_KEYPOINT_NAMES } from './pose-types.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
// COCO 2017 val ground truth of the skier in coco_000000000785.jpg (CC BY 4.0).
const SKIER_GT: GtKeypoint[] = [
  [367, 81, 2], [374, 73, 2], [360, 75, 2], [386, 78, 2], [356, 81, 2], [399, 108, 2], [358, 129, 2], [433, 142, 2],
  [341, 159, 2], [449, 165, 2], [309, 178, 2], [424, 203, 2], [393, 214, 2], [429, 294, 2], [367, 273, 2],
  [466, 362, 2], [396, 341, 2],
];

describe('PoseEngine on the COCO skier', () => {
  const engine = new PoseEngine();
  beforeAll(() => engine.preload(['cx', 'gy']), 60_000);
  afterAll(() => engine.dispose());

  it('cx (MoveNet Thunder) puts every joint on the right body part', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const r = await engine.estimate(img, { model: 'cx' });
    expect(r).not.toBeNull();
    const hits = pckHits(r!.keypoints, SKIER_GT, 0.2);
    const missed = COCO_KEYPOINT_NAMES.filter((_, i) => !hits[i]);
    expect(missed).toEqual([]);
    // Left stays left: the left wrist is nearer the true left wrist than the true right one.
    const lw = r!.keypoints[9]!;
    expect(Math.hypot(lw[0] - 449, lw[1] - 165)).toBeLessThan(Math.hypot(lw[0] - 309, lw[1] - 178));
    expect(r!.box.width).toBeGreaterThan(100);
  });

  it('gy (BlazePose full) finds the skier with named foot points', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const r = await engine.estimate(img, { model: 'gy' });
    expect(r).not.toBeNull();
    const hits = pckHits(r!.keypoints, SKIER_GT, 0.2).filter(Boolean).length;
    expect(hits).toBeGreaterThanOrEqual(15);
    expect(Object.keys(r!.extra ?? {})).toContain('left_heel');
    const heel = r!.extra!.left_heel!;
    expect(Math.hypot(heel[0] - 466, heel[1] - 362)).toBeLessThan(0.5 * torsoSize(SKIER_GT));
  });

  it('returns null on an image without a person', async () => {
    const blank = { data: new Uint8Array(320 * 240 * 3).fill(200), width: 320, height: 240 };
    expect(await engine.estimate(blank, { model: 'gy' })).toBeNull();
  });

  it('tracks with the previous box and keeps the joints', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const first = await engine.estimate(img, { model: 'cx' });
    const again = await engine.estimate(img, { model: 'cx', track: first!.box });
    expect(pckHits(again!.keypoints, SKIER_GT, 0.2).filter(Boolean).length).toBeGreaterThanOrEqual(16);
  });

  it('finds a person who moved out of the tracked crop with one wider pass, not a whole-image search', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const first = await engine.estimate(img, { model: 'cx' });
    // The box of a frame or two ago: the skier has since moved right by most of a body height.
    const stale = { ...first!.box, x: first!.box.x - 0.8 * first!.box.height };
    const before = { ...engine.counters };
    const r = await engine.estimate(img, { model: 'cx', track: stale });
    expect(engine.counters.lost).toBe(before.lost + 1);
    expect(engine.counters.rescued).toBe(before.rescued + 1);
    expect(engine.counters.searches).toBe(before.searches);
    expect(pckHits(r!.keypoints, SKIER_GT, 0.2).filter(Boolean).length).toBeGreaterThanOrEqual(14);
  });

  it('answers a video search from the locator crop alone when told not to refine', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const refined = await engine.estimate(img, { model: 'cx' });
    const single = await engine.estimate(img, { model: 'cx', refine: false });
    // One pass fewer, so not the same answer, yet still on the joints.
    expect(single!.keypoints).not.toEqual(refined!.keypoints);
    expect(pckHits(single!.keypoints, SKIER_GT, 0.2).filter(Boolean).length).toBeGreaterThanOrEqual(14);
  });

  it('takes a search method override (what npm run eval compares)', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    // No body crop: the locator's crop alone, which is what a video search answers from.
    const oneCrop = await engine.estimate(img, { model: 'cx', searchMethod: { bodyScales: [] } });
    const videoSearch = await engine.estimate(img, { model: 'cx', refine: false });
    expect(oneCrop!.keypoints).toEqual(videoSearch!.keypoints);
    const detectorCrop = await engine.estimate(img, { model: 'gy', searchMethod: { crop: 'detector', flip: false } });
    expect(pckHits(detectorCrop!.keypoints, SKIER_GT, 0.2).filter(Boolean).length).toBeGreaterThanOrEqual(15);
  });

  it('gives the same photo the same keypoints every time (flip test and two crops included)', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    for (const model of ['cx', 'gy']) {
      const a = await engine.estimate(img, { model });
      const b = await engine.estimate(img, { model });
      expect(b).toEqual(a);
    }
  });
});
