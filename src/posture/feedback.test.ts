import { describe, expect, it } from 'vitest';
import { evaluatePose } from './evaluate-view.ts';
import {
  buildFeedback,
  buildViewFeedback,
  summarizeAssessment,
  summarizeScore,
  type AssessedView,
  type ViewFeedback,
} from './feedback.ts';
import { bandFor, measurementNames, metricsForView, VIEWS, type View } from './profile.ts';
import { getProfile, listProfiles } from './profiles.ts';
import { at, frontPose, rightFacingPose, toList, type Pose } from './pose-fixtures.test-helper.ts';

const DESK_WORDS = /screen|desk|chair|seat|monitor|keyboard|armrest|backrest/i;
const ARM_WORDS = /\b(arms?|elbows?|wrists?|hands?)\b/i;

function texts(fb: ViewFeedback): string[] {
  return Object.values(fb).flatMap((e) => [e.commendation ?? '', e.critique ?? '', ...e.suggestions]);
}

/**
 * For every metric of a profile in a view: a result with each measurement just outside its normal range on one
 * side (`low` or `high`), scored 0 so that every suggestion of that direction is given.
 */
function offRange(profile: string, view: View, side: 'low' | 'high', mode: string | undefined): ViewFeedback {
  const measurements: Record<string, number> = {};
  const raw: Record<string, number> = {};
  for (const metric of metricsForView(getProfile(profile), view)) {
    const band = bandFor(metric, mode);
    const value = side === 'low' ? band.idealMin - 1 : band.idealMax + 1;
    if (!Number.isFinite(value)) continue;
    for (const name of measurementNames(metric)) measurements[name] = value;
    raw[metric.name] = 0;
  }
  return buildViewFeedback(profile, view, { measurements, raw_scores_percent: raw, posture_mode: mode });
}

/** Every profile × view × direction × mode its bands or texts know (and no mode), for the rules about advice. */
function everyCase(): { profile: string; view: View; mode: string | undefined; fb: ViewFeedback }[] {
  return listProfiles().flatMap((profile) => {
    const keys = getProfile(profile).metrics.flatMap((m) => [m.bandsByMode, m.feedback.tooLow.suggestionsByMode,
      m.feedback.tooHigh.suggestionsByMode].flatMap((byMode) => Object.keys(byMode ?? {})));
    const modes = [undefined, ...new Set(keys)];
    return VIEWS.flatMap((view) => modes.flatMap((mode) =>
      (['low', 'high'] as const).map((side) => ({ profile, view, mode, fb: offRange(profile, view, side, mode) }))));
  });
}

describe('feedback agrees with the bands and says where it was measured', () => {
  const side = evaluatePose(toList(rightFacingPose()), { view: 'right', scale: { source: 'seed_default' } });
  const fb = buildViewFeedback('stance', 'right', side);

  it('a full score earns a commendation naming view, measure, value and normal range', () => {
    expect(side.raw_scores_percent.back_angle).toBe(100);
    expect(fb.back_angle).toEqual({
      commendation: 'Right view, back angle 18.4° (normal -30 to 30°): your back angle is well controlled.',
      suggestions: [],
      view: 'right',
      profile: 'stance',
      label: 'Back angle',
      measurement: 'back_angle',
      value: 18.43,
      units: '°',
      target: '-30 to 30°',
      measurements: { back_angle: 18.43 },
      score_percent: 100,
    });
    expect(fb.leg_spread?.critique).toBeUndefined();
  });

  it('a low score gets a critique quoting the value and the normal range, with every suggestion', () => {
    // head tilt −22.62° scores 36.9 % (< 50): head down
    expect(fb.head_tilt).toMatchObject({
      critique: 'Right view, head tilt -22.6° (normal -10 to 10°): your head tilts down.',
      suggestions: ['Bring your gaze up to the horizon.', 'Lengthen the back of your neck with the chin level.'],
      value: -22.62,
      target: '-10 to 10°',
    });
  });

  it('a partial score gets a mild critique with one suggestion', () => {
    // knee 143.13° scores 77.1 %: bent deeper than 150–170
    expect(fb.knee_angle?.critique).toBe(
      'Right view, knee angle 143.1° (normal 150 to 170°): nearly there, your knee bends deeper than the stance needs.',
    );
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

  it('names the part that is off in a two-part metric, and skips omitted or unmeasured metrics', () => {
    const front = evaluatePose(toList(frontPose()), { view: 'front', pxToCm: 0.1 });
    const report = buildFeedback('stance', { front, right: side });
    expect(report.front?.foot_to_shoulder_offset).toMatchObject({
      critique:
        'Front view, right foot to shoulder offset 10 cm (normal -3.1 to 3.1 cm): nearly there, your right foot ' +
        'stands outside the shoulder line.',
      suggestions: ['Bring your right foot in until the ankle is under the shoulder.'],
      measurement: 'foot_to_shoulder_offset_right',
      value: 10,
      measurements: { foot_to_shoulder_offset_left: 2, foot_to_shoulder_offset_right: 10 },
    });
    expect(Object.keys(report)).toEqual(['front', 'right']);
    const partial = buildViewFeedback('stance', 'right', { ...side, raw_scores_percent: { knee_angle: 77.1, head_tilt: 36.9 } });
    expect(Object.keys(partial)).toEqual(['knee_angle', 'head_tilt']);
    const unmeasured = buildViewFeedback('stance', 'right', { ...side, measurements: { head_tilt: -22.62 } });
    expect(Object.keys(unmeasured)).toEqual(['head_tilt']);
  });

  it('uses the sitting bands and sitting advice only when the result says sitting', () => {
    const fbSit = buildViewFeedback('upright', 'right', {
      measurements: { hip_angle: 100 },
      raw_scores_percent: { hip_angle: 100 },
      posture_mode: 'sitting',
    });
    expect(fbSit.hip_angle?.commendation).toBe(
      'Right view, hip angle 100° (normal 90 to 135°): your hip angle is in a comfortable range.',
    );
    const fbStand = buildViewFeedback('upright', 'right', {
      measurements: { hip_angle: 100 },
      raw_scores_percent: { hip_angle: 0 },
      posture_mode: 'standing',
    });
    expect(fbStand.hip_angle).toMatchObject({
      critique: 'Right view, hip angle 100° (normal 165 to 180°): your hip is more bent than the normal range.',
      suggestions: ['Open the angle between your trunk and thighs.', 'Stand tall with your hips under your shoulders.'],
      target: '165 to 180°',
    });
  });

  it('every entry carries its view, profile, measurement, value, units and normal range', () => {
    const reports = everyCase().map((c) => ({ ...c, list: Object.entries(c.fb) }));
    expect(reports.reduce((n, r) => n + r.list.length, 0)).toBeGreaterThan(40);
    for (const { profile, view, list } of reports) {
      for (const [metric, entry] of list) {
        expect(entry).toMatchObject({ view, profile, units: expect.stringMatching(/^(°|cm)$/) });
        expect(entry.measurement.startsWith(metric)).toBe(true);
        expect(entry.measurements[entry.measurement]).toBe(entry.value);
        expect(entry.target).toMatch(/\d/);
        // The sentence itself names the view, the measure's value and its normal range.
        const capital = `${view[0]!.toUpperCase()}${view.slice(1)} view, `;
        expect(entry.critique ?? entry.commendation).toContain(capital);
        expect(entry.critique ?? entry.commendation).toContain(`(normal ${entry.target})`);
      }
    }
  });
});

describe('advice fits what the profile measures', () => {
  /** A skier seen from the front: feet well outside the shoulders, head tilted, standing. */
  function skier(): Pose {
    let pose = frontPose();
    pose = at(pose, 'left_ankle', 470, 600);
    pose = at(pose, 'right_ankle', 230, 600);
    pose = at(pose, 'left_eye', 360, 80);
    return at(pose, 'right_eye', 340, 92);
  }

  it('a skier photo gets feet and head advice, and nothing about desks or screens', () => {
    const stance = evaluatePose(toList(skier()), { view: 'front', pxToCm: 0.25 });
    const upright = evaluatePose(toList(skier()), { view: 'front', profile: 'upright' });
    expect(upright.posture_mode).toBe('standing');
    const fbStance = buildViewFeedback('stance', 'front', stance);
    const fbUpright = buildViewFeedback('upright', 'front', upright);
    expect(fbStance.foot_to_shoulder_offset?.critique).toMatch(/^Front view, left foot to shoulder offset 17\.5 cm/);
    expect(fbUpright.head_tilt?.critique).toMatch(/^Front view, head tilt 31° \(normal -3 to 3°\): your head tilts/);
    for (const text of [...texts(fbStance), ...texts(fbUpright)]) expect(text).not.toMatch(DESK_WORDS);
    // The same head, seen sitting, does get the screen advice: the rule is about context, not a banned word.
    const sitting = buildViewFeedback('upright', 'front', { ...upright, posture_mode: 'sitting' });
    expect(sitting.head_tilt?.suggestions).toContain('Centre your screen in front of you.');
  });

  it('no profile gives desk or screen advice unless the person is seen sitting', () => {
    for (const { profile, view, mode, fb } of everyCase()) {
      if (mode === 'sitting') continue;
      for (const text of texts(fb)) expect(text, `${profile} ${view} ${mode}`).not.toMatch(DESK_WORDS);
    }
  });

  it('only a metric about the arm speaks of the arm', () => {
    for (const { profile, view, fb } of everyCase()) {
      for (const [metric, entry] of Object.entries(fb)) {
        if (metric.startsWith('arm_')) continue;
        for (const text of [entry.commendation, entry.critique, ...entry.suggestions]) {
          expect(text ?? '', `${profile} ${view} ${metric}`).not.toMatch(ARM_WORDS);
        }
      }
    }
  });

  /** Walking, seen from the right: upright trunk, one leg forward, the near arm hanging by the side. */
  function walker(): Pose {
    const near = 0.9;
    const far = 0.6;
    return {
      nose: [520, 150, near],
      right_eye: [515, 140, near],
      left_eye: [510, 140, far],
      right_ear: [490, 142, near],
      left_ear: [488, 142, far],
      right_shoulder: [480, 220, near],
      left_shoulder: [470, 220, far],
      right_elbow: [485, 320, near],
      left_elbow: [465, 320, far],
      right_wrist: [495, 410, near],
      left_wrist: [455, 410, far],
      right_hip: [475, 450, near],
      left_hip: [470, 450, far],
      right_knee: [520, 560, near],
      left_knee: [440, 560, far],
      right_ankle: [545, 670, near],
      left_ankle: [400, 665, far],
    };
  }

  it('a walking side view gets arm advice only from a low arm metric', () => {
    const upright = evaluatePose(toList(walker()), { view: 'right', profile: 'upright' });
    expect(Object.keys(upright.raw_scores_percent).length).toBeGreaterThan(0);
    for (const text of texts(buildViewFeedback('upright', 'right', upright))) expect(text).not.toMatch(ARM_WORDS);

    // Under the stance profile the hanging arm is far from the held arm it scores: only the arm metrics say so.
    const hanging = evaluatePose(toList(walker()), { view: 'right', pxToCm: 0.25 });
    expect(hanging.raw_scores_percent.arm_angle).toBe(0);
    const fbHanging = buildViewFeedback('stance', 'right', hanging);
    expect(fbHanging.arm_angle?.critique).toMatch(/^Right view, arm angle 17\d\.\d° \(normal 80 to 100°\): your arm is below/);
    expect(fbHanging.arm_angle?.suggestions.join(' ')).toMatch(ARM_WORDS);
    for (const [metric, entry] of Object.entries(fbHanging)) {
      if (!metric.startsWith('arm_')) expect(entry.suggestions.join(' '), metric).not.toMatch(ARM_WORDS);
    }

    // The arm held forward at shoulder height with a soft elbow: no arm advice at all.
    const held = at(at(walker(), 'right_elbow', 560, 250), 'right_wrist', 640, 235);
    const fbHeld = buildViewFeedback('stance', 'right', evaluatePose(toList(held), { view: 'right', pxToCm: 0.25 }));
    expect(fbHeld.arm_angle?.commendation).toBeDefined();
    expect(fbHeld.arm_bent_angle?.commendation).toBeDefined();
    for (const entry of Object.values(fbHeld)) expect(entry.suggestions.join(' ')).not.toMatch(ARM_WORDS);
  });
});

describe('summarizeAssessment', () => {
  // Right view, stance: knee 0 %, back 20 %, head 60 %, arm 40 %, elbow 50 %, leg 0 % → Σ weight × % = 22.
  const weakRight: AssessedView = {
    view: 'right',
    profile: 'stance',
    overall_score: 22,
    raw_scores_percent: { knee_angle: 0, head_tilt: 60, arm_angle: 40, arm_bent_angle: 50, leg_spread: 0, back_angle: 20 },
    measurements: { knee_angle: 112, head_tilt: -18, arm_angle: 130, arm_bent_angle: 60, leg_spread: 150, back_angle: 42 },
  };
  // Front view: left foot 1 cm (100 %), right 4.84 cm (86 %) → 93.
  const goodFront: AssessedView = {
    view: 'front',
    profile: 'stance',
    overall_score: 93,
    raw_scores_percent: { foot_to_shoulder_offset: 93 },
    measurements: { foot_to_shoulder_offset_left: 1, foot_to_shoulder_offset_right: 4.84 },
  };
  const perfectFront: AssessedView = { ...goodFront, overall_score: 100, raw_scores_percent: { foot_to_shoulder_offset: 100 },
    measurements: { foot_to_shoulder_offset_left: 1, foot_to_shoulder_offset_right: 2 } };

  it('names the view that pulled the score down and what it lost most on', () => {
    const summary = summarizeAssessment([goodFront, weakRight]);
    expect(summary).toBe(
      'Poor posture, significant improvements needed. The right view pulled the score down: 22, against front 93. ' +
        'Most points were lost on its knee angle 112° (normal 150 to 170°) and back angle 42° (normal -30 to 30°).',
    );
    expect(summary.startsWith(summarizeScore(Math.round((93 + 22) / 2)))).toBe(true);
    expect(summary).not.toMatch(/\b(left|back) view/);
    expect(summarizeAssessment([weakRight, goodFront])).toBe(summary);
  });

  it('says every view is fine, and which measure to watch when one is short of full marks', () => {
    const perfectRight: AssessedView = { ...weakRight, overall_score: 100,
      raw_scores_percent: Object.fromEntries(Object.keys(weakRight.raw_scores_percent).map((m) => [m, 100])),
      measurements: { knee_angle: 160, head_tilt: 0, arm_angle: 90, arm_bent_angle: 20, leg_spread: 46, back_angle: 5 } };
    expect(summarizeAssessment([perfectFront, perfectRight])).toBe(
      'Excellent posture! Every measure is within its normal range in the front and right views.',
    );
    expect(summarizeAssessment([goodFront, perfectRight])).toBe(
      "Excellent posture! Every view scores 90 or more; the measure to watch is the front view's right foot to " +
        'shoulder offset 4.8 cm (normal -3.1 to 3.1 cm).',
    );
  });

  it('with close scores, names the measures that cost the most, under the bands of the posture mode', () => {
    const sittingSide: AssessedView = {
      view: 'left',
      profile: 'upright',
      posture_mode: 'sitting',
      overall_score: 72,
      // CVA 0.35, trunk 0.3, hip 0.15, knee 0.2: 0.35·60 + 0.3·100 + 0.15·40 + 0.2·75 = 72
      raw_scores_percent: { craniovertebral_angle: 60, trunk_inclination: 100, hip_angle: 40, knee_angle: 75 },
      measurements: { craniovertebral_angle: 42, trunk_inclination: 0, hip_angle: 78, knee_angle: 127.5 },
    };
    const front: AssessedView = { view: 'front', profile: 'upright', overall_score: 80,
      raw_scores_percent: { shoulder_tilt: 100, pelvic_tilt: 100, head_tilt: 0, lateral_trunk_lean: 100 },
      measurements: { shoulder_tilt: 0, pelvic_tilt: 0, head_tilt: 20, lateral_trunk_lean: 0 } };
    // Points lost (each view half the mean): CVA 7, head tilt 10, hip 4.5, knee 2.5.
    expect(summarizeAssessment([sittingSide, front])).toBe(
      'Fair posture, consider adjustments. Most points were lost on the front view\'s head tilt 20° (normal -3 to 3°) ' +
        'and the left view\'s craniovertebral angle (forward head) 42° (normal at least 50°).',
    );
    // Sitting bands: the hip's normal range is 90–135°, not the standing 165–180°.
    const slumped = { ...sittingSide, raw_scores_percent: { hip_angle: 0 }, measurements: { hip_angle: 65 }, overall_score: 0 };
    expect(summarizeAssessment([slumped])).toBe(
      'Poor posture, significant improvements needed. Most points were lost on the left view\'s hip angle 65° ' +
        '(normal 90 to 135°).',
    );
  });

  it('breaks ties in view order and rounds the mean as the analysis runner does', () => {
    const left: AssessedView = { ...weakRight, view: 'left', overall_score: 89 };
    const right: AssessedView = { ...weakRight, overall_score: 90 };
    // (89 + 90) / 2 = 89.5 rounds to 90; equal losses in both views: the left view is named first.
    expect(summarizeAssessment([right, left])).toBe(
      "Excellent posture! Most points were lost on the left view's knee angle 112° (normal 150 to 170°) and the " +
        "right view's knee angle 112° (normal 150 to 170°).",
    );
  });

  it('says when nothing could be measured, naming only the views analysed', () => {
    expect(summarizeAssessment([])).toBe('Posture could not be measured.');
    expect(summarizeAssessment([{ ...goodFront, overall_score: null }, { ...weakRight, view: 'left', overall_score: null }])).toBe(
      'Posture could not be measured. No measure could be taken in the front and left views.',
    );
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
