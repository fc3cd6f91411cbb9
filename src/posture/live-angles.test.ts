import { describe, expect, it } from 'vitest';
import { AngleOutOfRangeError, KeypointInputError, PostureInputError } from './errors.ts';
import { assertLiveAngle, computeLiveAngles, labelForAngle } from './live-angles.ts';

/** Shoulder midpoint S = (100, 100); hip midpoint H = S + (30, 40): a 3-4-5 lean of atan(30/40) = 36.8699°. */
const leaning = {
  left_shoulder: { x: 120, y: 100, confidence: 0.9 },
  right_shoulder: { X: 80, Y: 100, score: 0.9 },
  left_hip: [150, 140, 0.8],
  right_hip: [110, 140, 0.8],
};

describe('computeLiveAngles (SPEC 7)', () => {
  it('spine angle = |atan2(d.x, d.y)|, score = mean confidence', () => {
    const r = computeLiveAngles(leaning);
    expect(r.angle).toBe(36.87);
    expect(r.neck_tilt).toBeNull(); // no nose
    expect(r.score).toBe(0.85); // (0.9 + 0.9 + 0.8 + 0.8)/4
    expect(r.label).toBe('Bad'); // 36.87 from baseline 0 > 20
  });

  it('is 0 when upright and symmetric about the vertical', () => {
    const upright = { ...leaning, left_hip: [120, 300, 0.9], right_hip: [80, 300, 0.9] };
    expect(computeLiveAngles(upright).angle).toBe(0);
    const mirrored = { ...leaning, left_hip: [90, 140, 0.8], right_hip: [50, 140, 0.8] }; // d = (−30, 40)
    expect(computeLiveAngles(mirrored).angle).toBe(36.87);
  });

  it('neck tilt = atan2(nose.x − S.x, |d.y|), signed', () => {
    // nose 40 right of S over |d.y| = 40 → 45°; 40 left → −45°
    expect(computeLiveAngles({ ...leaning, nose: [140, 60, 0.9] }).neck_tilt).toBe(45);
    expect(computeLiveAngles({ ...leaning, nose: [60, 60, 0.9] }).neck_tilt).toBe(-45);
    // nose straight above S → 0, even at coordinate 0
    const zero = {
      left_shoulder: [10, 0, 1],
      right_shoulder: [-10, 0, 1],
      left_hip: [10, 50, 1],
      right_hip: [-10, 50, 1],
      nose: [0, 0, 1],
    };
    expect(computeLiveAngles(zero)).toEqual({ angle: 0, neck_tilt: 0, score: 1, label: 'Good' });
  });

  it('the nose counts toward the mean confidence when sent', () => {
    // (0.9 + 0.9 + 0.8 + 0.8 + 0.1)/5 = 0.70
    expect(computeLiveAngles({ ...leaning, nose: [100, 60, 0.1] }).score).toBe(0.7);
  });

  it('withholds angles below a mean confidence of 0.3', () => {
    const weak = {
      left_shoulder: [120, 100, 0.2],
      right_shoulder: [80, 100, 0.3],
      left_hip: [150, 140, 0.3],
      right_hip: [110, 140, 0.3],
      nose: [100, 50, 0.2],
    };
    // mean (0.2 + 0.3 + 0.3 + 0.3 + 0.2)/5 = 0.26 < 0.3
    expect(computeLiveAngles(weak)).toEqual({ angle: null, neck_tilt: null, score: 0.26, label: null });
    // exactly 0.3 is enough
    const enough = { ...weak, left_shoulder: [120, 100, 0.3], nose: [100, 50, 0.3] };
    expect(computeLiveAngles(enough).angle).toBe(36.87);
  });

  it('requires both shoulders and both hips', () => {
    const { left_hip: _omit, ...noHip } = leaning;
    expect(() => computeLiveAngles(noHip)).toThrow(KeypointInputError);
    expect(() => computeLiveAngles(noHip)).toThrow('Missing required keypoints: left_hip');
    try {
      computeLiveAngles({});
    } catch (e) {
      expect(e).toBeInstanceOf(PostureInputError);
      expect((e as PostureInputError).code).toBe('missing_keypoints');
    }
  });

  it('rejects a spine angle outside [0, 90]', () => {
    // hips above the shoulders: d = (30, −40) → |atan2(30, −40)| = 143.13°
    const upsideDown = { ...leaning, left_hip: [150, 60, 0.9], right_hip: [110, 60, 0.9] };
    expect(() => computeLiveAngles(upsideDown)).toThrow(AngleOutOfRangeError);
    expect(() => computeLiveAngles(upsideDown)).toThrow('Computed angle out of range');
    // exactly horizontal (d.y = 0) is 90°: allowed
    const flat = { ...leaning, left_hip: [160, 100, 0.9], right_hip: [120, 100, 0.9] };
    expect(computeLiveAngles(flat).angle).toBe(90);
  });

  it('rejects malformed points with a clear message', () => {
    expect(() => computeLiveAngles({ ...leaning, nose: { x: 'a', y: 1 } })).toThrow(/keypoints.nose: x must be/);
    expect(() => computeLiveAngles([1, 2, 3])).toThrow(/object keyed by COCO keypoint name/);
  });

  it('labels against the calibration baseline', () => {
    expect(computeLiveAngles(leaning, { baseline: 30 }).label).toBe('Good'); // |36.87 − 30| = 6.87
    expect(computeLiveAngles(leaning, { baseline: 20 }).label).toBe('Mild'); // 16.87
  });
});

describe('labelForAngle', () => {
  it('≤ 10 Good, ≤ 20 Mild, more Bad (both directions)', () => {
    expect(labelForAngle(10)).toBe('Good');
    expect(labelForAngle(10.01)).toBe('Mild');
    expect(labelForAngle(20)).toBe('Mild');
    expect(labelForAngle(20.5)).toBe('Bad');
    expect(labelForAngle(5, 25)).toBe('Mild');
  });

  it('assertLiveAngle accepts [0, 90] numbers only', () => {
    expect(() => assertLiveAngle(0)).not.toThrow();
    expect(() => assertLiveAngle(90)).not.toThrow();
    expect(() => assertLiveAngle(91)).toThrow(PostureInputError);
    expect(() => assertLiveAngle('45')).toThrow('angle must be a number between 0 and 90');
  });
});
