import { describe, expect, it } from 'vitest';
import { evaluatePose } from './evaluate-view.ts';
import { at, frontPose, mirrorPose, toList, withScore, type Pose } from './pose-fixtures.test-helper.ts';
import { uprightProfile } from './upright.profile.ts';

/**
 * Standing, right side toward the camera (facing image right): ear (360,100) over shoulders (300,180), hips
 * (300,400), knee (300,500), ankle (300,600). CVA = atan2(80 up, 60 forward) = 53.1301°; trunk 0°; hip and
 * knee 180°.
 */
function uprightSide(): Pose {
  return {
    nose: [390, 110, 0.9],
    right_eye: [375, 95, 0.9],
    left_eye: [372, 95, 0.6],
    right_ear: [360, 100, 0.9],
    left_ear: [355, 100, 0.6],
    right_shoulder: [300, 180, 0.9],
    left_shoulder: [300, 180, 0.6],
    right_elbow: [300, 280, 0.9],
    right_wrist: [300, 360, 0.9],
    right_hip: [300, 400, 0.9],
    left_hip: [300, 400, 0.6],
    right_knee: [300, 500, 0.9],
    left_knee: [300, 500, 0.6],
    right_ankle: [300, 600, 0.9],
    left_ankle: [300, 600, 0.6],
  };
}

describe('upright, front and back views', () => {
  it('a level, vertical body scores 100 on all four metrics', () => {
    const r = evaluatePose(toList(frontPose()), { profile: 'upright', view: 'front' });
    expect(r.measurements).toEqual({ shoulder_tilt: 0, pelvic_tilt: 0, head_tilt: 0, lateral_trunk_lean: 0 });
    expect(r.score).toEqual({
      overall_score: 100,
      shoulder_tilt: 0.3,
      pelvic_tilt: 0.25,
      head_tilt: 0.2,
      lateral_trunk_lean: 0.25,
    });
  });

  it('shoulder tilt is measured against the true horizontal, + = left shoulder higher', () => {
    // left shoulder 10 px higher over 100 px: atan(0.1) = 5.7106°; 1 − (5.7106 − 2)/8 = 0.5362
    const r = evaluatePose(toList(at(frontPose(), 'left_shoulder', 400, 190)), { profile: 'upright', view: 'front' });
    expect(r.measurements.shoulder_tilt).toBe(5.71);
    expect(r.raw_scores_percent.shoulder_tilt).toBe(53.62);
    // the same picture seen from the back is still the left shoulder, now on the image left: same sign
    const seenFromBehind = toList(at(frontPose(), 'left_shoulder', 400, 190)).map(([x, y, c]) => [1000 - x, y, c]);
    const back = evaluatePose(seenFromBehind, { profile: 'upright', view: 'back' });
    expect(back.measurements.shoulder_tilt).toBe(5.71);
  });

  it('pelvic tilt: right hip higher is negative', () => {
    const r = evaluatePose(toList(at(frontPose(), 'right_hip', 320, 394)), { profile: 'upright', view: 'front' });
    // rise −6 over 60 px: atan(−0.1) = −5.7106°
    expect(r.measurements.pelvic_tilt).toBe(-5.71);
  });

  it('lateral trunk lean flips sign between front and back views', () => {
    // shoulders 20 px to image right over 200 px: atan(20/200) = 5.7106°; front: image right = person's left → +
    let pose = at(frontPose(), 'left_shoulder', 420, 200);
    pose = at(pose, 'right_shoulder', 320, 200);
    const front = evaluatePose(toList(pose), { profile: 'upright', view: 'front' });
    expect(front.measurements.lateral_trunk_lean).toBe(5.71);
    expect(front.raw_scores_percent.lateral_trunk_lean).toBe(53.62);
    const back = evaluatePose(toList(pose), { profile: 'upright', view: 'back' });
    expect(back.measurements.lateral_trunk_lean).toBe(-5.71);
  });

  it('head tilt falls back from the eye line to the ear line', () => {
    let pose = withScore(withScore(frontPose(), 'left_eye', 0.1), 'right_eye', 0.1);
    pose = at(pose, 'left_ear', 375, 85); // left ear 10 px higher over 50 px: atan(0.2) = 11.3099°
    const r = evaluatePose(toList(pose), { profile: 'upright', view: 'front' });
    expect(r.measurements.head_tilt).toBe(11.31);
    // 1 − (11.3099 − 3)/12 = 0.3075
    expect(r.raw_scores_percent.head_tilt).toBe(30.75);
    expect(r.omitted_metrics).toEqual([]);
  });

  it('marks its measurements as keypoint proxies', () => {
    const r = evaluatePose(toList(frontPose()), { profile: 'upright', view: 'front' });
    expect(Object.keys(r.proxies)).toEqual(['shoulder_tilt', 'pelvic_tilt', 'head_tilt', 'lateral_trunk_lean']);
    expect(r.proxies.lateral_trunk_lean).toMatch(/C7/);
    expect(r.posture_mode).toBe('standing');
  });
});

describe('upright, side view', () => {
  it('an upright stance scores 100', () => {
    const r = evaluatePose(toList(uprightSide()), { profile: 'upright', view: 'auto' });
    expect(r.view).toBe('right');
    expect(r.measurements).toEqual({ craniovertebral_angle: 53.13, trunk_inclination: 0, hip_angle: 180, knee_angle: 180 });
    expect(r.score.overall_score).toBe(100);
    expect(r.posture_mode).toBe('standing');
    expect(r.proxies.craniovertebral_angle).toMatch(/Ear keypoint for the tragus, shoulder midpoint for C7/);
  });

  it('forward head lowers the craniovertebral angle', () => {
    // ear (380,120): 80 forward, 60 up → atan2(60, 80) = 36.8699°; 1 − (50 − 36.87)/20 = 0.3435
    const r = evaluatePose(toList(at(uprightSide(), 'right_ear', 380, 120)), { profile: 'upright', view: 'right' });
    expect(r.measurements.craniovertebral_angle).toBe(36.87);
    expect(r.raw_scores_percent.craniovertebral_angle).toBe(34.35);
    // the mirror image facing left measures the same
    const left = evaluatePose(toList(mirrorPose(at(uprightSide(), 'right_ear', 380, 120))), { profile: 'upright', view: 'left' });
    expect(left.measurements.craniovertebral_angle).toBe(36.87);
  });

  it('trunk inclination is + forward, − backward', () => {
    // shoulders (350,280) over hips (300,400): 50 forward, 120 up (5-12-13) → 22.6199°; 1 − 12.62/20 = 0.3690
    let pose = at(uprightSide(), 'right_shoulder', 350, 280);
    pose = at(pose, 'left_shoulder', 350, 280);
    const r = evaluatePose(toList(pose), { profile: 'upright', view: 'right' });
    expect(r.measurements.trunk_inclination).toBe(22.62);
    expect(r.raw_scores_percent.trunk_inclination).toBe(36.9);
    const back = evaluatePose(toList(pose), { profile: 'upright', view: 'left' });
    expect(back.measurements.trunk_inclination).toBe(-22.62);
  });

  it('a seated pose switches hip and knee to the sitting bands', () => {
    // thigh horizontal: hip (300,400) → knee (420,400); shank down to (420,520): hip 90°, knee 90°
    let pose = at(uprightSide(), 'right_knee', 420, 400);
    pose = at(pose, 'left_knee', 420, 400);
    pose = at(pose, 'right_ankle', 420, 520);
    pose = at(pose, 'left_ankle', 420, 520);
    const r = evaluatePose(toList(pose), { profile: 'upright', view: 'right' });
    expect(r.posture_mode).toBe('sitting');
    expect(r.measurements.hip_angle).toBe(90);
    expect(r.measurements.knee_angle).toBe(90);
    expect(r.raw_scores_percent.hip_angle).toBe(100);
    expect(r.raw_scores_percent.knee_angle).toBe(100);
  });

  it('a bent standing knee loses points: 160° → 1 − 10/30', () => {
    const rad = (20 * Math.PI) / 180;
    const pose = at(uprightSide(), 'right_ankle', 300 + 100 * Math.sin(rad), 500 + 100 * Math.cos(rad));
    const r = evaluatePose(toList(pose), { profile: 'upright', view: 'right' });
    expect(r.measurements.knee_angle).toBe(160);
    expect(r.raw_scores_percent.knee_angle).toBe(66.67);
  });
});

describe('upright profile data', () => {
  it('every metric has a definition, normal range, source and proxy note; weights sum to 1 per view', () => {
    for (const m of uprightProfile.metrics) {
      expect(m.definition.length).toBeGreaterThan(20);
      expect(m.normalRange.length).toBeGreaterThan(5);
      expect(m.source.length).toBeGreaterThan(20);
      expect(m.proxy).toBeTruthy();
    }
    for (const view of ['front', 'left'] as const) {
      const sum = uprightProfile.metrics.filter((m) => m.views.includes(view)).reduce((s, m) => s + m.weight, 0);
      expect(sum).toBeCloseTo(1, 12);
    }
  });
});
