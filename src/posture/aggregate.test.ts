import { describe, expect, it } from 'vitest';
import { evaluateFrames, type FrameResult, type MeasuredFrame, type PoseFrameInput } from './aggregate.ts';
import { KeypointInputError } from './errors.ts';
import { at, frontPose, mirrorPose, rightFacingPose, toList, withScore, type Pose } from './pose-fixtures.test-helper.ts';

function framesOf(poses: Array<Pose | null>): PoseFrameInput[] {
  return poses.map((pose, i) => ({ frame_index: i * 2, timestamp: i / 15, keypoints: pose && toList(pose) }));
}

/** The hand-checked cm values (leg spread 46.58) use the seed's fixed 100/644 cm per px. */
const SEED = { scale: { source: 'seed_default' } } as const;

function measured(frame: FrameResult | undefined): MeasuredFrame {
  if (!frame || frame.keypoints === null) throw new Error('expected a frame with the subject');
  return frame;
}

/** Twelve frames of the right-facing pose (knee 143.13°, overall 85) with the knee flung away in frame 6. */
function withOutlierFrame(): Pose[] {
  const poses = Array.from({ length: 12 }, () => rightFacingPose());
  poses[6] = at(rightFacingPose(), 'right_knee', 520, 420);
  return poses;
}

describe('evaluateFrames', () => {
  it('resists an outlier frame through track cleaning', () => {
    const r = evaluateFrames(framesOf(withOutlierFrame()), { view: 'right', ...SEED });
    expect(r.aggregated_results.measurements.knee_angle).toBeCloseTo(143.13, 1);
    expect(r.aggregated_results.score.overall_score).toBe(85);
    // the outlier frame itself was repaired before measuring
    expect(measured(r.frames_data[6]).measurements.knee_angle).toBeCloseTo(143.13, 1);
  });

  it('resists an outlier frame through the trimmed mean alone', () => {
    const r = evaluateFrames(framesOf(withOutlierFrame()), { view: 'right', filter: false, ...SEED });
    expect(measured(r.frames_data[6]).measurements.knee_angle).not.toBeCloseTo(143.13, 0);
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
    expect(r.view_confidence).toBe(0.727); // 8 of 11
    expect(r.aggregated_results.view_confidence).toBe(0.727);
    expect(r.aggregated_results.frames_used).toBe(8);
    expect(r.aggregated_results.measurements.knee_angle).toBe(143.13);
    expect(r.warnings[0]).toMatch(/3 of 11 frames with a person look like another view than 'right'/);
    // with auto, each frame is scored in its own detected view
    expect(Object.keys(measured(r.frames_data[9]).raw_scores_percent)).toEqual(['foot_to_shoulder_offset']);
  });

  it('falls back to every frame, with a warning, when none matches the declared view', () => {
    const r = evaluateFrames(framesOf([frontPose(), frontPose()]), { view: 'left', filter: false });
    expect(r.aggregated_results.frames_used).toBe(2);
    expect(r.warnings[0]).toMatch(/No frame looks like a 'left' view/);
  });

  it('returns the per-frame series with index, time, cleaned keypoints and scores', () => {
    const r = evaluateFrames(framesOf(Array.from({ length: 3 }, () => rightFacingPose())), { view: 'right', ...SEED });
    expect(r.frames_data).toHaveLength(3);
    const f = measured(r.frames_data[1]);
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
    expect(measured(evaluateFrames(framesOf(poses), { view: 'right', filter: false }).frames_data[4]).measurements.arm_angle).toBeUndefined();
    expect(measured(evaluateFrames(framesOf(poses), { view: 'right' }).frames_data[4]).measurements.arm_angle).toBe(108.43);
  });

  it('picks the frame closest to the aggregate for the overlay', () => {
    // right ankle x = 330, 340, … 390 over 7 frames: leg spread and knee angle move monotonically; the middle
    // frame (x = 360, frame_index 6) sits at the trimmed mean of the spread exactly
    const poses = Array.from({ length: 7 }, (_, i) => at(rightFacingPose(), 'right_ankle', 330 + 10 * i, 580));
    const r = evaluateFrames(framesOf(poses), { view: 'right', filter: false, ...SEED });
    expect(r.representative_frame_index).toBe(6);
  });

  it('handles a clip without a person and an empty series', () => {
    const r = evaluateFrames([{ frame_index: 0, timestamp: 0, keypoints: null }], { view: 'front' });
    expect(r.aggregated_results.overall_posture_score).toBeNull();
    expect(r.warnings.at(-1)).toMatch(/No metric could be measured/);
    expect(r.detected_view).toBeNull();
    expect(r.view_confidence).toBeNull();
    expect(r.scale).toBeNull();
    expect(r.representative_frame_index).toBeNull();
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

describe('evaluateFrames and gaps', () => {
  it('a frame without the subject is a gap: nulls, never zeros, and counts in nothing', () => {
    const poses = Array.from({ length: 8 }, (): Pose | null => rightFacingPose());
    poses[3] = null;
    const r = evaluateFrames(framesOf(poses), { view: 'auto', ...SEED });
    expect(r.frames_data[3]).toEqual({
      frame_index: 6, timestamp: 3 / 15, keypoints: null, detected_view: null, score: null, raw_scores_percent: null, measurements: null,
    });
    expect(r.aggregated_results.side_detection_summary).toEqual({ left: 0, right: 7, front: 0 });
    expect(r.view_confidence).toBe(1);
    expect(r.aggregated_results.frames_used).toBe(7);
    expect(r.aggregated_results.measurements).toEqual(evaluateFrames(framesOf(poses.filter(Boolean)), { view: 'auto', ...SEED }).aggregated_results.measurements);
    expect(r.warnings).toEqual([]);
  });

  it('a long run of null frames stays null and the poses either side are not pulled toward each other', () => {
    // at 15 fps, 9 null frames span 10/15 s > 0.5 s; the person is 200 px further right after the gap
    const moved = (): Pose => Object.fromEntries(Object.entries(rightFacingPose()).map(([n, [x, y, c]]) => [n, [x + 200, y, c]]));
    const poses: Array<Pose | null> = [...Array.from({ length: 10 }, rightFacingPose), ...Array<null>(9).fill(null), ...Array.from({ length: 10 }, moved)];
    const r = evaluateFrames(framesOf(poses), { view: 'right' });
    expect(r.frames_data.slice(10, 19).every((f) => f.keypoints === null && f.measurements === null)).toBe(true);
    expect(measured(r.frames_data[9]).keypoints[14]![0]).toBeCloseTo(300, 6); // right knee x, as measured
    expect(measured(r.frames_data[19]).keypoints[14]![0]).toBeCloseTo(500, 6);
  });

  it('a short run of null frames stays null too, while its neighbours are cleaned as one track', () => {
    const poses: Array<Pose | null> = Array.from({ length: 9 }, rightFacingPose);
    poses[4] = null;
    const r = evaluateFrames(framesOf(poses), { view: 'right' });
    expect(r.frames_data[4]!.keypoints).toBeNull();
    expect(measured(r.frames_data[5]).keypoints[14]).toEqual([300, 500, 0.9]);
  });

  it('never draws the overlay on a gap or on a frame of another view', () => {
    // right-facing frames between front frames and gaps: the frame drawn on is always a right-facing one
    const poses: Array<Pose | null> = [frontPose(), null, ...Array.from({ length: 5 }, (_, i) => at(rightFacingPose(), 'right_ankle', 330 + 10 * i, 580)), null, frontPose()];
    const r = evaluateFrames(framesOf(poses), { view: 'auto', filter: false });
    const chosen = r.frames_data.find((f) => f.frame_index === r.representative_frame_index);
    expect(chosen?.detected_view).toBe('right');
  });
});

describe('the view of a clip', () => {
  it('an ambiguous clip says so, and a tie goes to front, then left, then right', () => {
    const poses = [...Array.from({ length: 5 }, rightFacingPose), ...Array.from({ length: 5 }, frontPose)];
    const r = evaluateFrames(framesOf(poses), { view: 'auto', filter: false });
    expect(r.detected_view).toBe('front');
    expect(r.view_confidence).toBe(0.5);
    expect(r.warnings[0]).toBe("View is ambiguous: 50% front, 50% right, 0% left of 10 frames with a person; scored as 'front'. Declare the view to be sure.");
    const left = [...Array.from({ length: 5 }, rightFacingPose), ...Array.from({ length: 5 }, () => mirrorPose(rightFacingPose()))];
    expect(evaluateFrames(framesOf(left), { view: 'auto', filter: false }).detected_view).toBe('left');
  });

  it('a clear clip gives no warning; a declared view keeps the confidence of the detected one', () => {
    const poses = [...Array.from({ length: 7 }, rightFacingPose), ...Array.from({ length: 3 }, frontPose)];
    const r = evaluateFrames(framesOf(poses), { view: 'auto', filter: false });
    expect(r.view_confidence).toBe(0.7);
    expect(r.warnings.some((w) => w.startsWith('View is ambiguous'))).toBe(false);
    const declared = evaluateFrames(framesOf(poses), { view: 'left', filter: false });
    expect(declared).toMatchObject({ view: 'left', detected_view: 'right', view_confidence: 0.7 });
  });
});

describe('the scale of a clip', () => {
  it('is one stated number for every cm value, per frame and aggregated', () => {
    const r = evaluateFrames(framesOf(Array.from({ length: 6 }, frontPose)), { view: 'front' });
    expect(r.scale?.source).toBe('estimated');
    expect(r.units.foot_to_shoulder_offset_left).toBe('cm');
    const cmPerPx = r.scale!.cm_per_px;
    // left offset = 20 px (pose-fixtures) in every frame
    for (const f of r.frames_data) expect(measured(f).measurements.foot_to_shoulder_offset_left).toBeCloseTo(20 * cmPerPx, 2);
    expect(r.aggregated_results.measurements.foot_to_shoulder_offset_left).toBeCloseTo(20 * cmPerPx, 2);
  });

  it('a subject height of 180 vs 160 cm scales the cm values by 180/160', () => {
    const frames = framesOf(Array.from({ length: 6 }, rightFacingPose));
    const tall = evaluateFrames(frames, { view: 'right', scale: { source: 'subject_height', heightCm: 180 } });
    const short = evaluateFrames(frames, { view: 'right', scale: { source: 'subject_height', heightCm: 160 } });
    expect(tall.scale).toMatchObject({ source: 'subject_height', height_cm: 180 });
    expect(tall.aggregated_results.measurements.leg_spread! / short.aggregated_results.measurements.leg_spread!).toBeCloseTo(180 / 160, 3);
    expect(tall.aggregated_results.measurements.knee_angle).toBe(short.aggregated_results.measurements.knee_angle);
  });
});
