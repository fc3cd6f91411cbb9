import { describe, expect, it } from 'vitest';
import { KeypointInputError } from './errors.ts';
import { KEYPOINT_INDEX, KEYPOINT_NAMES, SKELETON_EDGES, normalizeKeypoints, parseNamedKeypoints } from './keypoints.ts';

const list17 = KEYPOINT_NAMES.map((_, i) => [i * 10, i * 20, 0.5] as const);

describe('keypoint names', () => {
  it('follows COCO order', () => {
    expect(KEYPOINT_NAMES).toHaveLength(17);
    expect(KEYPOINT_INDEX.nose).toBe(0);
    expect(KEYPOINT_INDEX.left_ear).toBe(3);
    expect(KEYPOINT_INDEX.right_shoulder).toBe(6);
    expect(KEYPOINT_INDEX.left_hip).toBe(11);
    expect(KEYPOINT_INDEX.right_ankle).toBe(16);
  });

  it('skeleton edges only name COCO points', () => {
    for (const [a, b] of SKELETON_EDGES) {
      expect(KEYPOINT_NAMES).toContain(a);
      expect(KEYPOINT_NAMES).toContain(b);
    }
  });
});

describe('normalizeKeypoints', () => {
  it('keeps a 17-point list as is', () => {
    const out = normalizeKeypoints(list17);
    expect(out).toHaveLength(17);
    expect(out[16]).toEqual([160, 320, 0.5]);
  });

  it('keeps the 17 body points of a 133-point COCO-WholeBody list', () => {
    const whole = [...list17, ...Array.from({ length: 116 }, () => [999, 999, 1])];
    const out = normalizeKeypoints(whole);
    expect(out).toHaveLength(17);
    expect(out[5]).toEqual([50, 100, 0.5]);
  });

  it('rejects other list lengths with a clear message', () => {
    expect(() => normalizeKeypoints(list17.slice(0, 16))).toThrow(/expected 17 \(COCO\) or 133 .* got 16/);
    expect(() => normalizeKeypoints(list17.slice(0, 16))).toThrow(KeypointInputError);
  });

  it('accepts all named point shapes and fills missing points with score 0', () => {
    const out = normalizeKeypoints({
      nose: { x: 1, y: 2, confidence: 0.9 },
      left_eye: { X: 3, Y: 4, score: 0.8 },
      right_eye: [5, 6, 0.7],
      tail: [1, 1, 1], // unknown names are ignored
    });
    expect(out[0]).toEqual([1, 2, 0.9]);
    expect(out[1]).toEqual([3, 4, 0.8]);
    expect(out[2]).toEqual([5, 6, 0.7]);
    expect(out[3]).toEqual([0, 0, 0]);
  });

  it('treats zero coordinates as a real position', () => {
    const out = normalizeKeypoints({ left_shoulder: { x: 0, y: 0, confidence: 0.9 } });
    expect(out[5]).toEqual([0, 0, 0.9]);
  });

  it('reads a point without confidence as fully confident and null as missing', () => {
    const out = normalizeKeypoints({ nose: { x: 4, y: 5 }, left_eye: null });
    expect(out[0]).toEqual([4, 5, 1]);
    expect(out[1]).toEqual([0, 0, 0]);
  });

  it.each([
    [{ nose: { x: '1', y: 2 } }, /keypoints\.nose: x must be a finite number/],
    [{ nose: [1, Number.NaN, 0.3] }, /y must be a finite number/],
    [{ nose: [1, 2, 1.5] }, /confidence must be a number between 0 and 1/],
    [{ nose: [1] }, /expected \[x, y, score\]/],
    [{ nose: 'here' }, /expected \[x, y, score\] or \{x, y, confidence\}/],
    [{ foo: [1, 2, 3] }, /no COCO keypoint name/],
    ['keypoints', /object keyed by COCO keypoint name/],
    [null, /object keyed by COCO keypoint name/],
  ])('rejects %j', (input, message) => {
    expect(() => normalizeKeypoints(input)).toThrow(message);
  });

  it('names the list index of a bad point', () => {
    const bad = list17.map((p) => [...p]);
    bad[7] = [1, 2, -0.1];
    expect(() => normalizeKeypoints(bad)).toThrow(/keypoints\[7\] \(left_elbow\)/);
  });
});

describe('parseNamedKeypoints', () => {
  it('keeps presence: only sent points appear', () => {
    const out = parseNamedKeypoints({ left_hip: [0, 0, 0], nose: null });
    expect(Object.keys(out)).toEqual(['left_hip']);
  });
});
