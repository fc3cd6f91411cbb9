import { describe, expect, it } from 'vitest';
import { evaluateFrames, type PoseFrameInput } from './aggregate.ts';
import { KeypointInputError } from './errors.ts';
import { at, frontPose, rightFacingPose, toList, withScore, type Pose } from './pose-fixtures.test-helper.ts';

function framesOf(poses: Pose[]): PoseFrameInput[] {
  return poses.map((pose, i) => ({ frame_index: i * 2, timestamp: i / 15, keypoints: toList(pose) }));
}

/** Twelve frames of the right-facing pose (knee 143.13°, overall 85) with the knee flung away in frame 6. */
function withOutlierFrame(): Pose[] {
  const poses = Array.from({ length: 12 }, () => rightFacingPose());
  poses[6] = at(rightFacingPose(), 'right_knee', 520, 420);
  return poses;
}

describe('evaluateFrames', () => {
  it('resists an outlier frame through track cleaning', () => {
    const r = evaluateFrames(framesOf(withOutlierFrame()), { view: 'right' });
    expect(r.aggregated_results.measurements.knee_angle).toBeCloseTo(143.13, 1);
    expect(r.aggregated_results.score.overall_score).toBe(85);
    // the outlier frame itself was repaired before measuring
    expect(r.frames_data[6]!.measurements.knee_angle).toBeCloseTo(143.13, 1);
  });

  it('resists an outlier frame through the trimmed mean alone', () => {
    const r = evaluateFrames(framesOf(withOutlierFrame()), { view: 'right', filter: false });
    expect(r.frames_data[6]!.measurements.knee_angle).not.toBeCloseTo(143.13, 0);
    expect(r.aggregated_results.measurements.knee_angle).toBe(143.13);
    expect(r.aggregated_results.score.overall_score).toBe(85);
  });

  it('groups frames by detected side and aggregates only the scoring view', () => {
    // 8 right-facing frames, 3 frames with equal confidences (detected front)
    const poses = [...Array.from({ length: 8 }, () => rightFacingPose()), ...Array.from({ length: 3 }, () => frontPose())];
    const r = evaluateFrames(framesOf(poses), { view: 'auto', filter: false });
    expect(r.view).toBe('right');
    expect(r.detected_view).toBe('right');
    expect(r.aggregated_results.side_detection_summary).toEqual({ left: 0, right: 8, front: 3 });
    expect(r.aggregated_results.frames_used).toBe(8);
    expect(r.aggregated_results.measurements.knee_angle).toBe(143.13);
    expect(r.warnings[0]).toMatch(/3 of 11 frames look like another view than 'right'/);
    // with auto, each frame is scored in its own detected view
    expect(Object.keys(r.frames_data[9]!.raw_scores_percent)).toEqual(['foot_to_shoulder_offset']);
  });

  it('falls back to every frame, with a warning, when none matches the declared view', () => {
    const r = evaluateFrames(framesOf([frontPose(), frontPose()]), { view: 'left', filter: false });
    expect(r.aggregated_results.frames_used).toBe(2);
    expect(r.warnings[0]).toMatch(/No frame looks like a 'left' view/);
  });

  it('returns the per-frame series with index, time, cleaned keypoints and scores', () => {
    const r = evaluateFrames(framesOf(Array.from({ length: 3 }, () => rightFacingPose())), { view: 'right' });
    expect(r.frames_data).toHaveLength(3);
    const f = r.frames_data[1]!;
    expect(f.frame_index).toBe(2);
    expect(f.timestamp).toBeCloseTo(1 / 15, 12);
    expect(f.keypoints).toHaveLength(17);
    expect(f.keypoints[14]).toEqual([300, 500, 0.9]);
    expect(f.score.overall_score).toBe(85);
    expect(f.detected_view).toBe('right');
    expect(f.measurements.leg_spread).toBe(46.58);
  });

  it('fills a briefly occluded wrist so its metrics are measured in that frame', () => {
    const poses = Array.from({ length: 9 }, () => rightFacingPose());
    poses[4] = withScore(rightFacingPose(), 'right_wrist', 0.05);
    expect(evaluateFrames(framesOf(poses), { view: 'right', filter: false }).frames_data[4]!.measurements.arm_angle).toBeUndefined();
    expect(evaluateFrames(framesOf(poses), { view: 'right' }).frames_data[4]!.measurements.arm_angle).toBe(108.43);
  });

  it('picks the frame closest to the aggregate for the overlay', () => {
    // right ankle x = 330, 340, … 390 over 7 frames: leg spread and knee angle move monotonically; the middle
    // frame (x = 360, frame_index 6) sits at the trimmed mean of the spread exactly
    const poses = Array.from({ length: 7 }, (_, i) => at(rightFacingPose(), 'right_ankle', 330 + 10 * i, 580));
    const r = evaluateFrames(framesOf(poses), { view: 'right', filter: false });
    expect(r.representative_frame_index).toBe(6);
  });

  it('handles frames without a person and an empty series', () => {
    const r = evaluateFrames([{ frame_index: 0, timestamp: 0, keypoints: null }], { view: 'front' });
    expect(r.aggregated_results.overall_posture_score).toBeNull();
    expect(r.warnings.at(-1)).toMatch(/No metric could be measured/);
    const empty = evaluateFrames([], {});
    expect(empty.frames_data).toEqual([]);
    expect(empty.representative_frame_index).toBeNull();
  });

  it('names the frame of an unreadable keypoint list', () => {
    const frames = framesOf([rightFacingPose(), rightFacingPose()]);
    frames[1] = { frame_index: 5, timestamp: 0.3, keypoints: [[1, 2, 3]] };
    expect(() => evaluateFrames(frames)).toThrow(KeypointInputError);
    expect(() => evaluateFrames(frames)).toThrow(/^frame 5: expected 17/);
  });
});
