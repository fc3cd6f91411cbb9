import { describe, expect, it } from 'vitest';
import { evaluatePose } from './evaluate-view.ts';
import { frontPose, toList, withScore, type Pose } from './pose-fixtures.test-helper.ts';
import { describeScale, resolveScale, SEED_CM_PER_PX, staturePx } from './scale.ts';

/**
 * Standing straight, facing the camera, segments at exactly the Drillis & Contini ratios of a 1000 px stature:
 * shoulder → hip 288 px (0.288 H), hip → knee 245 px (0.245 H), knee → ankle 246 px (0.246 H).
 */
function straightPose(zoom = 1): Pose {
  const c = 0.9;
  const at = (x: number, y: number): [number, number, number] => [x * zoom, y * zoom, c];
  return {
    nose: at(350, 40), left_eye: at(360, 30), right_eye: at(340, 30), left_ear: at(375, 35), right_ear: at(325, 35),
    left_shoulder: at(380, 100), right_shoulder: at(320, 100),
    left_elbow: at(400, 250), right_elbow: at(300, 250), left_wrist: at(405, 380), right_wrist: at(295, 380),
    left_hip: at(380, 388), right_hip: at(320, 388),
    left_knee: at(380, 633), right_knee: at(320, 633),
    left_ankle: at(380, 879), right_ankle: at(320, 879),
  };
}

describe('staturePx', () => {
  it('sums trunk, thigh and shank over their ratios', () => {
    expect(staturePx(toList(straightPose()), 0.3)).toBeCloseTo(1000, 9);
  });

  it('uses the segments it can see: a half body from the trunk alone', () => {
    let pose = straightPose();
    for (const name of ['left_knee', 'right_knee', 'left_ankle', 'right_ankle'] as const) pose = withScore(pose, name, 0.1);
    expect(staturePx(toList(pose), 0.3)).toBeCloseTo(288 / 0.288, 9);
  });

  it('is null when no segment has both ends confident', () => {
    let pose = straightPose();
    for (const name of ['left_hip', 'right_hip', 'left_knee', 'right_knee'] as const) pose = withScore(pose, name, 0.1);
    expect(staturePx(toList(pose), 0.3)).toBeNull();
  });
});

describe('resolveScale', () => {
  const poses = [toList(straightPose())];

  it('subject height: cm per px = height / stature in px', () => {
    expect(resolveScale({ source: 'subject_height', heightCm: 180 }, poses, 0.3)).toEqual({
      source: 'subject_height', cm_per_px: expect.closeTo(0.18, 12), height_cm: 180, stature_px: 1000,
    });
  });

  it('without a height the scale is estimated, and flagged so', () => {
    const scale = resolveScale({ source: 'estimated' }, poses, 0.3);
    expect(scale).toMatchObject({ source: 'estimated', assumed_height_cm: 170, stature_px: 1000 });
    expect(scale?.cm_per_px).toBeCloseTo(0.17, 12);
    expect(scale && 'note' in scale ? scale.note : '').toMatch(/Estimated from body proportions/);
  });

  it('takes the median stature over a clip, so one odd frame does not move it', () => {
    const clip = [toList(straightPose()), toList(straightPose()), toList(straightPose(2))];
    expect(resolveScale({ source: 'estimated' }, clip, 0.3)).toMatchObject({ stature_px: 1000 });
  });

  it('needs no body for the seed factor or a calibration, and gives up without a stature otherwise', () => {
    expect(resolveScale({ source: 'seed_default' }, [], 0.3)).toMatchObject({ source: 'seed_default', cm_per_px: SEED_CM_PER_PX });
    expect(resolveScale({ source: 'calibration', cmPerPx: 0.2 }, [], 0.3)).toEqual({ source: 'calibration', cm_per_px: 0.2 });
    expect(resolveScale({ source: 'estimated' }, [], 0.3)).toBeNull();
    expect(resolveScale({ source: 'subject_height', heightCm: 170 }, [], 0.3)).toBeNull();
  });

  it('describes itself in one line', () => {
    expect(describeScale(resolveScale({ source: 'subject_height', heightCm: 180 }, poses, 0.3))).toBe(
      "Centimetres: scaled by the subject's height of 180 cm (0.18 cm/px).",
    );
    expect(describeScale(null)).toMatch(/none/);
  });
});

describe('cm values follow the stated scale', () => {
  it('a height of 180 vs 160 cm scales every cm value by 180/160 and leaves angles alone', () => {
    const tall = evaluatePose(toList(frontPose()), { view: 'front', scale: { source: 'subject_height', heightCm: 180 } });
    const short = evaluatePose(toList(frontPose()), { view: 'front', scale: { source: 'subject_height', heightCm: 160 } });
    expect(tall.scale?.source).toBe('subject_height');
    expect(tall.units).toMatchObject({ foot_to_shoulder_offset_left: 'cm', foot_to_shoulder_offset_right: 'cm', knee_angle: '°' });
    for (const name of ['foot_to_shoulder_offset_left', 'foot_to_shoulder_offset_right']) {
      expect(tall.measurements[name]! / short.measurements[name]!).toBeCloseTo(180 / 160, 2);
      // traceable: left = 20 px, right = 100 px (pose-fixtures) × the stated cm per px
      const px = name.endsWith('left') ? 20 : 100;
      expect(tall.measurements[name]).toBeCloseTo(px * tall.scale!.cm_per_px, 2);
    }
  });

  it('the default is the estimate; the seed factor only when asked for', () => {
    expect(evaluatePose(toList(frontPose()), { view: 'front' }).scale?.source).toBe('estimated');
    const seed = evaluatePose(toList(frontPose()), { view: 'front', scale: { source: 'seed_default' } });
    expect(seed.measurements.foot_to_shoulder_offset_left).toBe(3.11); // 20 px × 100/644
    expect(evaluatePose(toList(frontPose()), { view: 'front', pxToCm: 0.1 }).scale).toEqual({ source: 'calibration', cm_per_px: 0.1 });
  });

  it('without any scale a cm metric is left out rather than given in pixels', () => {
    let pose = frontPose();
    for (const name of ['left_hip', 'right_hip', 'left_knee', 'right_knee'] as const) pose = withScore(pose, name, 0.1);
    const r = evaluatePose(toList(pose), { view: 'front' });
    expect(r.scale).toBeNull();
    expect(r.omitted_metrics).toEqual(['foot_to_shoulder_offset']);
    expect(r.warnings[0]).toMatch(/Left out foot_to_shoulder_offset: no pixel-to-cm scale/);
  });
});
