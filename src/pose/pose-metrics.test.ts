import { describe, expect, it } from 'vitest';
import { hipOffset, leaveOneOut, poolScores, scoreImage, selectionLoss, type GtKeypoint, type ImageScore } from './pose-metrics.ts';
import type { Keypoint } from './pose-types.ts';

const score = (hits: number, angle: number): ImageScore => ({ hits, labelled: 10, angleErrors: [angle] });

describe('pooling and the selection loss', () => {
  it('pools hits over labelled points and averages every angle', () => {
    const p = poolScores([
      { hits: 3, labelled: 4, angleErrors: [10] },
      { hits: 1, labelled: 4, angleErrors: [2, 6] },
    ]);
    expect(p).toEqual({ pck: 0.5, angleError: 6 });
  });

  it('weighs one PCK point as one degree', () => {
    expect(selectionLoss({ pck: 0.9, angleError: 8 })).toBeCloseTo(18, 10);
  });
});

describe('leaveOneOut', () => {
  // A is perfect on two images and fails the third; B is good everywhere. On all images B wins (loss 16 vs 53.3).
  const A = { name: 'A', scores: [score(10, 5), score(10, 5), score(0, 50)] };
  const B = { name: 'B', scores: [score(9, 6), score(9, 6), score(9, 6)] };

  it('chooses on the other images and scores the held-out one', () => {
    // Holding out image 0 or 1, A's failure on image 2 makes B win; holding out image 2, A wins (loss 5 vs 16) and
    // answers the image it fails on: 18 hits of 30, angles 6, 6, 50.
    const cv = leaveOneOut([A, B]);
    expect(cv.chosen).toEqual(['B', 'B', 'A']);
    expect(cv.pck).toBeCloseTo(0.6, 10);
    expect(cv.angleError).toBeCloseTo(62 / 3, 10);
  });

  it('gives the earlier candidate a tie', () => {
    expect(leaveOneOut([B, { ...B, name: 'B2' }]).chosen).toEqual(['B', 'B', 'B']);
  });
});

/** A person whose point i lies at (ox + 10 × (i mod 2), 10 × i): torso size hypot(10, 70). */
const person = (ox: number): GtKeypoint[] => Array.from({ length: 17 }, (_, i): GtKeypoint => [ox + (i % 2) * 10, i * 10, 2]);

describe('scoreImage', () => {
  it('scores against the annotated person the prediction matches', () => {
    const pred = person(1000).map(([x, y]): Keypoint => [x, y, 0.9]);
    const s = scoreImage(pred, [person(0), person(1000)]);
    expect(s.gt[0]![0]).toBe(1000);
    expect([s.hits, s.labelled]).toEqual([17, 17]);
    expect(s.angleErrors).toHaveLength(7);
    expect(Math.max(...s.angleErrors)).toBeCloseTo(0, 6);
  });

  it('misses every labelled point and has no angle when nobody was found', () => {
    expect(scoreImage(null, [person(0)])).toMatchObject({ hits: 0, labelled: 17, angleErrors: [] });
  });
});

describe('hipOffset', () => {
  // Shoulders at y = 0, hips at y = 20, 10 apart: body axis straight up, 20 long; torso size hypot(10, 20).
  const gt: GtKeypoint[] = Array.from({ length: 17 }, (): GtKeypoint => [0, 0, 0]);
  gt[5] = [0, 0, 2];
  gt[6] = [10, 0, 2];
  gt[11] = [0, 20, 2];
  gt[12] = [10, 20, 2];

  it('is positive, in torso sizes, when the predicted hips sit higher', () => {
    const pred = gt.map(([x, y]): Keypoint => [x, y, 1]);
    pred[11] = [0, 18, 1];
    pred[12] = [10, 18, 1];
    expect(hipOffset(pred, gt)).toBeCloseTo(2 / Math.hypot(10, 20), 10);
  });

  it('is null when the torso is not labelled', () => {
    const partial = gt.map((g, i): GtKeypoint => (i === 12 ? [g[0], g[1], 0] : g));
    expect(hipOffset(gt.map(([x, y]): Keypoint => [x, y, 1]), partial)).toBeNull();
  });
});
