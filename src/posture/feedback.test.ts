import { describe, expect, it } from 'vitest';
import { evaluatePose } from './evaluate-view.ts';
import { buildFeedback, buildViewFeedback, summarizeScore } from './feedback.ts';
import { frontPose, rightFacingPose, toList } from './pose-fixtures.test-helper.ts';

describe('feedback agrees with the bands', () => {
  const side = evaluatePose(toList(rightFacingPose()), { view: 'right', scale: { source: 'seed_default' } });
  const fb = buildViewFeedback('stance', 'right', side);

  it('a full score earns a commendation and no critique', () => {
    expect(side.raw_scores_percent.back_angle).toBe(100);
    expect(fb.back_angle).toEqual({ commendation: 'Your back angle is well controlled (18.4°).', suggestions: [] });
    expect(fb.leg_spread?.critique).toBeUndefined();
  });

  it('a low score gets a critique quoting the value and the target range, with every suggestion', () => {
    // head tilt −22.62° scores 36.9 % (< 50): head down
    expect(fb.head_tilt).toEqual({
      critique: 'Your head tilts down (-22.6°; target -10 to 10°).',
      suggestions: ['Bring your gaze up to the horizon.', 'Lengthen the back of your neck with the chin level.'],
    });
  });

  it('a partial score gets a mild critique with one suggestion', () => {
    // knee 143.13° scores 77.1 %: bent deeper than 150–170
    expect(fb.knee_angle?.critique).toBe('Nearly there: Your knee angle is 143.1°, bent deeper than the target 150 to 170°.');
    expect(fb.knee_angle?.suggestions).toEqual(['Rise a little out of the crouch so the knee bends only 10–30°.']);
    expect(fb.knee_angle?.commendation).toBeUndefined();
  });

  it('every measured metric has exactly one of commendation or critique', () => {
    for (const [metric, entry] of Object.entries(fb)) {
      const full = side.raw_scores_percent[metric] === 100;
      expect(Boolean(entry.commendation)).toBe(full);
      expect(Boolean(entry.critique)).toBe(!full);
    }
  });

  it('names the part that is off in a two-part metric, and skips omitted metrics', () => {
    const front = evaluatePose(toList(frontPose()), { view: 'front', pxToCm: 0.1 });
    const report = buildFeedback('stance', { front, right: side });
    expect(report.front?.foot_to_shoulder_offset?.critique).toBe(
      'Nearly there: Your right foot is 10 cm outside the shoulder line (target -3.1 to 3.1 cm).',
    );
    expect(Object.keys(report)).toEqual(['front', 'right']);
    const partial = buildViewFeedback('stance', 'right', { ...side, raw_scores_percent: { knee_angle: 77.1 } });
    expect(Object.keys(partial)).toEqual(['knee_angle']);
  });

  it('uses the sitting bands when the result says sitting', () => {
    const fbSit = buildViewFeedback('upright', 'right', {
      measurements: { hip_angle: 100 },
      raw_scores_percent: { hip_angle: 100 },
      posture_mode: 'sitting',
    });
    expect(fbSit.hip_angle?.commendation).toMatch(/100°/);
    const fbStand = buildViewFeedback('upright', 'right', {
      measurements: { hip_angle: 100 },
      raw_scores_percent: { hip_angle: 0 },
    });
    expect(fbStand.hip_angle?.critique).toBe('Your hip is closed to 100° (target 165 to 180°).');
  });
});

describe('summarizeScore', () => {
  it.each([
    [100, 'Excellent posture!'],
    [90, 'Excellent posture!'],
    [89, 'Good posture with minor improvements needed.'],
    [80, 'Good posture with minor improvements needed.'],
    [79, 'Fair posture, consider adjustments.'],
    [70, 'Fair posture, consider adjustments.'],
    [69, 'Poor posture, significant improvements needed.'],
    [0, 'Poor posture, significant improvements needed.'],
    [null, 'Posture could not be measured.'],
  ])('%s → %s', (score, text) => {
    expect(summarizeScore(score)).toBe(text);
  });
});
