import { describe, expect, it } from 'vitest';
import { PostureInputError } from './errors.ts';
import { evaluatePose } from './evaluate-view.ts';
import { buildViewFeedback } from './feedback.ts';
import { KEYPOINT_NAMES } from './keypoints.ts';
import { frontPose, rightFacingPose, toList } from './pose-fixtures.test-helper.ts';
import type { ProfileDefinition } from './profile.ts';
import { listProfiles } from './profiles.ts';
import { linearBand } from './scoring.ts';

describe('evaluatePose input and options', () => {
  it('accepts named keypoints in any accepted point shape', () => {
    const list = toList(rightFacingPose());
    const named = Object.fromEntries(
      KEYPOINT_NAMES.map((name, i) => {
        const [x, y, c] = list[i]!;
        return [name, i % 3 === 0 ? { x, y, confidence: c } : i % 3 === 1 ? { X: x, Y: y, score: c } : [x, y, c]];
      }),
    );
    expect(evaluatePose(named, { view: 'right' })).toEqual(evaluatePose(list, { view: 'right' }));
  });

  it('accepts a 133-point COCO-WholeBody list', () => {
    const whole = [...toList(frontPose()), ...Array.from({ length: 116 }, () => [0, 0, 0])];
    expect(evaluatePose(whole, { view: 'front' }).score.overall_score).toBe(evaluatePose(toList(frontPose()), { view: 'front' }).score.overall_score);
  });

  it('returns the documented result shape', () => {
    const r = evaluatePose(toList(frontPose()), { view: 'front' });
    expect(Object.keys(r).sort()).toEqual(
      ['view', 'detected_view', 'profile', 'score', 'raw_scores_percent', 'measurements', 'overall_posture_score', 'omitted_metrics',
        'proxies', 'scale', 'units', 'warnings'].sort(),
    );
    expect(r.profile).toBe('stance');
  });

  it.each([
    [{ profile: 'yoga' }, 'unknown_profile', /Unknown profile: yoga. Available profiles: stance, upright/],
    [{ view: 'top' as never }, 'invalid_view', /Invalid view: top/],
    [{ pxToCm: 0 }, 'invalid_option', /pxToCm must be a positive number/],
    [{ confidenceThreshold: 2 }, 'invalid_option', /confidenceThreshold must be between 0 and 1/],
    [{ scale: { source: 'subject_height', heightCm: 1.8 } } as const, 'invalid_option', /heightCm must be between 50 and 250/],
    [{ scale: { source: 'subject_height', heightCm: Number.NaN } } as const, 'invalid_option', /heightCm must be between 50 and 250/],
    [{ pxToCm: 0.1, scale: { source: 'estimated' } } as const, 'invalid_option', /either pxToCm or scale/],
  ])('rejects %j with a typed error', (options, code, message) => {
    try {
      evaluatePose(toList(frontPose()), options);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PostureInputError);
      expect((e as PostureInputError).code).toBe(code);
      expect((e as Error).message).toMatch(message);
    }
  });

  it('lists the registered profiles', () => {
    expect(listProfiles()).toEqual(['stance', 'upright']);
  });
});

describe('a profile is data', () => {
  // A new profile declared here, not registered anywhere: scoring, renormalisation and feedback just work.
  const shoulderWidth: ProfileDefinition = {
    name: 'custom',
    description: 'test profile',
    metrics: [
      {
        name: 'shoulder_width',
        label: 'Shoulder width',
        views: ['front'],
        weight: 2, // weights are renormalised, so they need not sum to 1
        units: 'cm',
        keypoints: () => [['left_shoulder', 'right_shoulder']],
        measure: (ctx) => {
          const l = ctx.point('left_shoulder')!;
          const r = ctx.point('right_shoulder')!;
          return { values: { shoulder_width: Math.abs(l.x - r.x) * ctx.pxToCm }, annotations: [] };
        },
        band: linearBand(40, 5, 20),
        definition: 'd',
        normalRange: 'n',
        source: 's',
        feedback: {
          commendation: 'Fine at {value}.',
          tooLow: { critique: 'Narrow: {value} (target {range}).', suggestions: ['Widen.'] },
          tooHigh: { critique: 'Wide: {value} (target {range}).', suggestions: ['Narrow.'] },
        },
      },
    ],
  };

  it('is scored and explained without touching the pipeline', () => {
    // |400 − 300| px × 0.1 = 10 cm; |10 − 40| = 30 ≥ 20 → 0
    const r = evaluatePose(toList(frontPose()), { profile: shoulderWidth, view: 'front', pxToCm: 0.1 });
    expect(r.measurements).toEqual({ shoulder_width: 10 });
    expect(r.score).toEqual({ overall_score: 0, shoulder_width: 0 });
    expect(buildViewFeedback(shoulderWidth, 'front', r).shoulder_width).toMatchObject({
      critique: 'Front view, shoulder width 10 cm (normal 35 to 45 cm): Narrow: 10 cm (target 35 to 45 cm).',
      suggestions: ['Widen.'],
    });
  });
});
