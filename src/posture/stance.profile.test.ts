import { describe, expect, it } from 'vitest';
import { evaluatePose } from './evaluate-view.ts';
import { at, frontPose, mirrorPose, rightFacingPose, toList, withScore } from './pose-fixtures.test-helper.ts';

/** The hand-checked cm values below use the seed's fixed 100/644 cm per px. */
const SEED = { scale: { source: 'seed_default' } } as const;

describe('stance, side view (SPEC 5 table)', () => {
  const result = evaluatePose(toList(rightFacingPose()), { profile: 'stance', view: 'right', ...SEED });

  it('detects the right side and agrees with the declared view', () => {
    expect(result.view).toBe('right');
    expect(result.detected_view).toBe('right');
    expect(result.warnings).toEqual([]);
    expect(result.omitted_metrics).toEqual([]);
  });

  it('measures every metric (hand-checked in pose-fixtures)', () => {
    expect(result.measurements).toEqual({
      knee_angle: 143.13,
      head_tilt: -22.62,
      arm_angle: 108.43,
      arm_bent_angle: 36.87,
      leg_spread: 46.58,
      back_angle: 18.43,
    });
  });

  it('scores every metric with its band', () => {
    // knee: bend 36.8699 > 30 → linear(bend, 30, 0, 30) = 1 − 6.8699/30 = 0.7710
    // head: |−22.6199| → 1 − (22.6199 − 10)/20 = 0.3690
    // arm: |108.4349 − 90| = 18.4349 → 1 − 8.4349/50 = 0.8313
    // elbow bend 36.87 ∈ [10, 40], spread |46.58 − 46.6| ≤ 15.5, back 18.43 ≤ 30 → 1
    expect(result.raw_scores_percent).toEqual({
      knee_angle: 77.1,
      head_tilt: 36.9,
      arm_angle: 83.13,
      arm_bent_angle: 100,
      leg_spread: 100,
      back_angle: 100,
    });
    // weighted: 0.25×0.7710 = 0.1928, 0.1×0.3690 = 0.0369, 0.15×0.8313 = 0.1247, 0.1, 0.15, 0.25
    expect(result.score).toEqual({
      overall_score: 85,
      knee_angle: 0.1928,
      head_tilt: 0.0369,
      arm_angle: 0.1247,
      arm_bent_angle: 0.1,
      leg_spread: 0.15,
      back_angle: 0.25,
    });
    // Σ = 0.19275 + 0.03690 + 0.12470 + 0.1 + 0.15 + 0.25 = 0.8543
    expect(result.overall_posture_score).toBe(0.8543);
  });

  it('gives the same numbers for the mirrored body facing left', () => {
    const left = evaluatePose(toList(mirrorPose(rightFacingPose())), { profile: 'stance', view: 'left', ...SEED });
    expect(left.detected_view).toBe('left');
    expect(left.measurements).toEqual(result.measurements);
    expect(left.score).toEqual(result.score);
  });

  it('uses the detected view when the view is auto', () => {
    expect(evaluatePose(toList(rightFacingPose())).view).toBe('right');
  });

  it('scores a straight knee 0 and a knee bent 20° fully', () => {
    // ankle straight below the knee: angle 180, bend 0 → linear(0, 10, 0, 10) = 0
    const straight = evaluatePose(toList(at(rightFacingPose(), 'right_ankle', 300, 580)), { view: 'right' });
    expect(straight.measurements.knee_angle).toBe(180);
    expect(straight.raw_scores_percent.knee_angle).toBe(0);
    // bend 20°: ankle = knee + 100·(sin 20°, cos 20°) → angle 160 → inside [150, 170]
    const r = (20 * Math.PI) / 180;
    const bent = evaluatePose(toList(at(rightFacingPose(), 'right_ankle', 300 + 100 * Math.sin(r), 500 + 100 * Math.cos(r))), { view: 'right' });
    expect(bent.measurements.knee_angle).toBe(160);
    expect(bent.raw_scores_percent.knee_angle).toBe(100);
    // bend 5°: linear(5, 10, 0, 10) = 0.5
    const r5 = (5 * Math.PI) / 180;
    const slight = evaluatePose(toList(at(rightFacingPose(), 'right_ankle', 300 + 100 * Math.sin(r5), 500 + 100 * Math.cos(r5))), { view: 'right' });
    expect(slight.raw_scores_percent.knee_angle).toBe(50);
  });

  it('head level with the eye scores 0° and full marks', () => {
    const level = evaluatePose(toList(at(rightFacingPose(), 'right_ear', 400, 200)), { view: 'right' });
    expect(level.measurements.head_tilt).toBe(0);
    expect(level.raw_scores_percent.head_tilt).toBe(100);
  });

  it('a straight arm held horizontally scores bend 0 → 0 and arm angle 90 → 100', () => {
    let pose = at(rightFacingPose(), 'right_elbow', 520, 240);
    pose = at(pose, 'right_wrist', 620, 240);
    const r = evaluatePose(toList(pose), { view: 'right' });
    expect(r.measurements.arm_angle).toBe(90);
    expect(r.raw_scores_percent.arm_angle).toBe(100);
    expect(r.measurements.arm_bent_angle).toBe(0);
    expect(r.raw_scores_percent.arm_bent_angle).toBe(0);
  });

  it('back angle is negative when the shoulders are behind the hips', () => {
    // both sides: hip→shoulder (−120, −160) while facing right → −36.8699° each, mean −36.87
    // linear(−36.87, 0, 30, 45) = 1 − 6.8699/15 = 0.5420
    let pose = at(rightFacingPose(), 'right_shoulder', 180, 240);
    pose = at(pose, 'left_shoulder', 160, 240);
    const r = evaluatePose(toList(pose), { view: 'right' });
    expect(r.measurements.back_angle).toBe(-36.87);
    expect(r.raw_scores_percent.back_angle).toBe(54.2);
    // the mirrored body facing left leans back just the same
    expect(evaluatePose(toList(mirrorPose(pose)), { view: 'left' }).measurements.back_angle).toBe(-36.87);
    // the same picture declared as a left view (person facing image left): shoulders are ahead → positive
    const declaredLeft = evaluatePose(toList(pose), { view: 'left' });
    expect(declaredLeft.measurements.back_angle).toBe(36.87);
  });

  it('back angle falls back to the near side when the far side is not confident', () => {
    const r = evaluatePose(toList(withScore(rightFacingPose(), 'left_hip', 0.1)), { view: 'right' });
    // near side only: +36.8699 → linear(36.87, 0, 30, 45) = 0.5420
    expect(r.measurements.back_angle).toBe(36.87);
    expect(r.raw_scores_percent.back_angle).toBe(54.2);
    expect(r.omitted_metrics).toEqual([]);
  });

  it('leaves out low-confidence metrics and renormalises the remaining weights', () => {
    const r = evaluatePose(toList(withScore(rightFacingPose(), 'right_wrist', 0.1)), { view: 'right', ...SEED });
    expect(r.omitted_metrics).toEqual(['arm_angle', 'arm_bent_angle']);
    expect(r.warnings.join(' ')).toMatch(/Left out arm_angle: keypoints below confidence 0.3 \(right_wrist 0.1\)/);
    // weights left: knee 0.25 + head 0.1 + legs 0.15 + back 0.25 = 0.75
    // knee 0.25/0.75 × 0.7710 = 0.2570; head 0.1/0.75 × 0.3690 = 0.0492; legs 0.2; back 0.3333
    expect(r.score).toEqual({ overall_score: 84, knee_angle: 0.257, head_tilt: 0.0492, leg_spread: 0.2, back_angle: 0.3333 });
    expect(r.overall_posture_score).toBe(0.8395);
    expect(r.measurements.arm_angle).toBeUndefined();
  });

  it('a point exactly at the threshold counts, one just below does not', () => {
    expect(evaluatePose(toList(withScore(rightFacingPose(), 'right_wrist', 0.3)), { view: 'right' }).omitted_metrics).toEqual([]);
    expect(evaluatePose(toList(withScore(rightFacingPose(), 'right_wrist', 0.29)), { view: 'right' }).omitted_metrics).toHaveLength(2);
    // a custom threshold moves the line
    expect(evaluatePose(toList(rightFacingPose()), { view: 'right', confidenceThreshold: 0.95 }).overall_posture_score).toBeNull();
  });

  it('warns when the declared view disagrees with the detected one', () => {
    const r = evaluatePose(toList(rightFacingPose()), { view: 'left' });
    expect(r.view).toBe('left');
    expect(r.detected_view).toBe('right');
    expect(r.warnings[0]).toMatch(/Declared view 'left' but the keypoints look like a 'right' view/);
  });

  it('the px→cm calibration is configurable', () => {
    // 300 px × 0.2 cm/px = 60 cm → |60 − 46.6| = 13.4 ≤ 15.5 → full
    const r = evaluatePose(toList(rightFacingPose()), { view: 'right', pxToCm: 0.2 });
    expect(r.measurements.leg_spread).toBe(60);
    expect(r.raw_scores_percent.leg_spread).toBe(100);
  });
});

describe('stance, front and back views', () => {
  it('front: offsets in cm, each side scored by linear(offset, 0, 3.1, 15.5), metric = their mean', () => {
    // left = x(15) − x(5) = 420 − 400 = 20 px = 2 cm (pxToCm 0.1) → 1
    // right = x(6) − x(16) = 300 − 200 = 100 px = 10 cm → 1 − (10 − 3.1)/12.4 = 0.4435
    // metric = (1 + 0.4435)/2 = 0.7218
    const r = evaluatePose(toList(frontPose()), { view: 'front', pxToCm: 0.1 });
    expect(r.detected_view).toBe('front');
    expect(r.measurements).toEqual({ foot_to_shoulder_offset_left: 2, foot_to_shoulder_offset_right: 10 });
    expect(r.raw_scores_percent).toEqual({ foot_to_shoulder_offset: 72.18 });
    expect(r.score).toEqual({ overall_score: 72, foot_to_shoulder_offset: 0.7218 });
    expect(r.warnings).toEqual([]);
  });

  it('back: the picture is mirrored, so both signs flip and the score stays', () => {
    const r = evaluatePose(toList(frontPose()), { view: 'back', pxToCm: 0.1 });
    expect(r.view).toBe('back');
    expect(r.detected_view).toBe('front');
    expect(r.warnings).toEqual([]); // front and back cannot be told apart: no disagreement
    expect(r.measurements).toEqual({ foot_to_shoulder_offset_left: -2, foot_to_shoulder_offset_right: -10 });
    expect(r.score.overall_score).toBe(72);
  });

  it("the seed_default scale is 100/644 cm per px (the scoring endpoint's default)", () => {
    // 20 px × 100/644 = 3.1056 cm; 100 px = 15.528 cm (≥ 15.5 → 0)
    const r = evaluatePose(toList(frontPose()), { view: 'front', ...SEED });
    expect(r.scale).toMatchObject({ source: 'seed_default', cm_per_px: 100 / 644 });
    expect(r.measurements.foot_to_shoulder_offset_left).toBe(3.11);
    expect(r.measurements.foot_to_shoulder_offset_right).toBe(15.53);
  });

  it('zero coordinates are valid positions', () => {
    // right ankle at x = 0: right = 300 − 0 = 300 px = 30 cm (pxToCm 0.1) → 0
    const pose = at(frontPose(), 'right_ankle', 0, 0);
    const r = evaluatePose(toList(pose), { view: 'front', pxToCm: 0.1 });
    expect(r.measurements.foot_to_shoulder_offset_right).toBe(30);
    expect(r.raw_scores_percent.foot_to_shoulder_offset).toBe(50); // (1 + 0)/2
  });

  it('a missing ankle leaves the only metric out: no overall score', () => {
    const pose = frontPose();
    delete pose.left_ankle;
    const r = evaluatePose(toList(pose), { view: 'front' });
    expect(r.omitted_metrics).toEqual(['foot_to_shoulder_offset']);
    expect(r.overall_posture_score).toBeNull();
    expect(r.score).toEqual({ overall_score: null });
    expect(r.warnings.at(-1)).toMatch(/No metric of profile 'stance' could be measured/);
  });

  it('side metrics are not measured in a front view and vice versa', () => {
    const front = evaluatePose(toList(frontPose()), { view: 'front' });
    expect(Object.keys(front.raw_scores_percent)).toEqual(['foot_to_shoulder_offset']);
    const side = evaluatePose(toList(rightFacingPose()), { view: 'right' });
    expect(side.raw_scores_percent.foot_to_shoulder_offset).toBeUndefined();
  });
});
