// The calibration step: the user stands straight for a few seconds and their usual spine angle becomes the baseline
// the server labels later events against (Good within 10° of it, Mild within 20°). The angles come from the
// server's own function (src/posture/live-angles.ts) on the keypoints an event would carry, so the baseline is in
// exactly the units the server compares it with. Pure, so it is unit-tested in Node.
import { computeLiveAngles } from '../../../src/posture/live-angles.ts';
import type { PostureEventBody } from './live-api.ts';

export const CALIBRATION_MS = 3000;
/** Fewer confident poses than this in the whole window and the baseline would be a guess. */
export const MIN_CALIBRATION_POSES = 5;

export type CalibrationResult = { baseline: number; poses: number } | { problem: string };

export class Calibration {
  private readonly angles: number[] = [];

  constructor(readonly startedAt: number) {}

  /** Takes one pose; poses too uncertain for an angle (or with the hips above the shoulders) are skipped. */
  add(keypoints: PostureEventBody['keypoints']): void {
    try {
      const { angle } = computeLiveAngles(keypoints);
      if (angle !== null) this.angles.push(angle);
    } catch {
      // Not a standing person (missing torso points, angle out of range): not part of the baseline.
    }
  }

  isDone(now: number): boolean {
    return now - this.startedAt >= CALIBRATION_MS;
  }

  /** The median angle, which a glance aside or a misdetected frame does not move. */
  result(): CalibrationResult {
    if (this.angles.length < MIN_CALIBRATION_POSES) {
      return { problem: 'Postura could not see your shoulders and hips clearly. Stand facing the camera with your upper body in view, then calibrate again.' };
    }
    const sorted = [...this.angles].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return { baseline: Math.round(median * 10) / 10, poses: sorted.length };
  }
}
