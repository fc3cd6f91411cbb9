import { describe, expect, it } from 'vitest';
import { mergeFlipped, mergePasses, scaleRoi } from './person-geometry.ts';
import type { Keypoint } from './pose-types.ts';

describe('mergePasses', () => {
  it('averages passes that agree, weighted by score', () => {
    const [p] = mergePasses([[[0, 0, 0.5]], [[10, 0, 1]]], 20);
    // x = (0 × 0.5 + 10 × 1) / 1.5; score = mean of the two.
    expect(p![0]).toBeCloseTo(6.6667, 4);
    expect(p![1]).toBe(0);
    expect(p![2]).toBeCloseTo(0.75, 10);
  });

  it('keeps the surer point when two passes disagree', () => {
    expect(mergePasses([[[0, 0, 0.5]], [[10, 0, 1]]], 5)).toEqual([[10, 0, 1]]);
  });

  it('lets two agreeing passes outvote a surer outlier', () => {
    // Supports: 0.4 + 0.4 for each of the two close points, 0.7 for the outlier 100 px away.
    expect(mergePasses([[[0, 0, 0.4]], [[2, 0, 0.4]], [[100, 0, 0.7]]], 5)).toEqual([[1, 0, 0.4]]);
  });

  it('gives the first pass a tie', () => {
    expect(mergePasses([[[0, 0, 0.5]], [[10, 0, 0.5]]], 5)).toEqual([[0, 0, 0.5]]);
  });

  it('takes the plain mean of points nobody is sure of, with score 0', () => {
    expect(mergePasses([[[0, 0, 0]], [[4, 2, 0]]])).toEqual([[2, 1, 0]]);
  });

  it('is mergeFlipped for two passes', () => {
    const a: Keypoint[] = [[0, 0, 0.9], [50, 50, 0.2], [5, 5, 0.3]];
    const b: Keypoint[] = [[3, 4, 0.6], [90, 50, 0.8], [5, 9, 0.3]];
    expect(mergePasses([a, b], 10)).toEqual(mergeFlipped(a, b, [0, 1, 2], 10));
  });

  it('answers nothing for no passes', () => {
    expect(mergePasses([])).toEqual([]);
  });
});

describe('scaleRoi', () => {
  it('scales the side and keeps centre and rotation', () => {
    expect(scaleRoi({ cx: 10, cy: 20, size: 100, angle: 0.5 }, 1.5)).toEqual({ cx: 10, cy: 20, size: 150, angle: 0.5 });
  });
});
