// Hand-built poses shared by the posture tests (not a test file itself: vitest only runs *.test.ts).
import { KEYPOINT_INDEX, KEYPOINT_NAMES, type Keypoint, type KeypointName } from './keypoints.ts';

export type Pose = Partial<Record<KeypointName, Keypoint>>;

export function toList(pose: Pose): Keypoint[] {
  return KEYPOINT_NAMES.map((name) => pose[name] ?? [0, 0, 0]);
}

/**
 * Right side toward the camera, facing image right. Near (right) points score 0.9, far (left) 0.6, so both the
 * ear pair and the shoulder pair vote `right`: (0.6 − 0.9)/0.9 = −33 %.
 *   knee: hip (300,400), knee (300,500), ankle (360,580): rays (0,−100) and (60,80), cos = −0.8 → 143.1301°
 *   head: eye (460,200), ear (400,175): ray (−60,−25) (5-12-13), cos to up = 25/65 → 67.3801° − 90 = −22.6199°
 *   arm: shoulder (420,240) → wrist (600,300) = (180,60): 90° + atan(60/180) = 108.4349°
 *   elbow: shoulder→elbow (80,60) then elbow→wrist (100,0): bend = atan(60/80) = 36.8699°
 *   legs: ankles at x 60 and 360: 300 px × 100/644 = 46.5839 cm (under the seed_default scale)
 *   back: right hip→shoulder (120,−160) = +36.8699° (forward); left (280,400)→(280,240) = 0°; mean 18.4349°
 */
export function rightFacingPose(): Pose {
  const near = 0.9;
  const far = 0.6;
  return {
    nose: [470, 190, near],
    left_eye: [450, 195, far],
    right_eye: [460, 200, near],
    left_ear: [395, 172, far],
    right_ear: [400, 175, near],
    left_shoulder: [280, 240, far],
    right_shoulder: [420, 240, near],
    left_elbow: [270, 320, far],
    right_elbow: [500, 300, near],
    left_wrist: [280, 380, far],
    right_wrist: [600, 300, near],
    left_hip: [280, 400, far],
    right_hip: [300, 400, near],
    left_knee: [250, 500, far],
    right_knee: [300, 500, near],
    left_ankle: [60, 580, far],
    right_ankle: [360, 580, near],
  };
}

/** Mirror image (x → width − x) with left and right swapped: the same body facing the other way. */
export function mirrorPose(pose: Pose, width = 1000): Pose {
  const out: Pose = {};
  for (const [name, kp] of Object.entries(pose) as [KeypointName, Keypoint][]) {
    const other = name.startsWith('left_')
      ? (name.replace('left_', 'right_') as KeypointName)
      : name.startsWith('right_')
        ? (name.replace('right_', 'left_') as KeypointName)
        : name;
    out[other] = [width - kp[0], kp[1], kp[2]];
  }
  return out;
}

/**
 * Facing the camera, equal confidences (detected `front`). The person's left is image right.
 * Shoulders at x 400 (left) / 300 (right); ankles at x 420 (left) / 200 (right).
 */
export function frontPose(): Pose {
  const c = 0.9;
  return {
    nose: [350, 100, c],
    left_eye: [360, 90, c],
    right_eye: [340, 90, c],
    left_ear: [375, 95, c],
    right_ear: [325, 95, c],
    left_shoulder: [400, 200, c],
    right_shoulder: [300, 200, c],
    left_elbow: [420, 300, c],
    right_elbow: [280, 300, c],
    left_wrist: [425, 390, c],
    right_wrist: [275, 390, c],
    left_hip: [380, 400, c],
    right_hip: [320, 400, c],
    left_knee: [390, 500, c],
    right_knee: [300, 500, c],
    left_ankle: [420, 600, c],
    right_ankle: [200, 600, c],
  };
}

export function withScore(pose: Pose, name: KeypointName, score: number): Pose {
  const kp = pose[name];
  return kp ? { ...pose, [name]: [kp[0], kp[1], score] } : pose;
}

export function at(pose: Pose, name: KeypointName, x: number, y: number): Pose {
  return { ...pose, [name]: [x, y, pose[name]?.[2] ?? 0.9] };
}

export { KEYPOINT_INDEX };
