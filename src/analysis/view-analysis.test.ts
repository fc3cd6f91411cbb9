import { describe, expect, it } from 'vitest';
import type { MediaInfo, PoseFrame } from '../pose/analyze-media.ts';
import { frontPose, rightFacingPose, toList, type Pose } from '../posture/pose-fixtures.test-helper.ts';
import { framesCsv } from './frames-csv.ts';
import { buildDetailedResult } from './view-analysis.ts';

const info: MediaInfo = {
  fileType: 'video', format: 'mp4', width: 1000, height: 800, fps: 30, totalFrames: 20, frameStep: 2, duration: 0.67, rotation: 0,
};

/** Pose frames as the media layer yields them; null = nobody (or not the subject) in that frame. */
function poseFrames(poses: Array<Pose | null>): PoseFrame[] {
  return poses.map((pose, i) => ({ frame_index: 2 * i, timestamp: i / 15, keypoints: pose && toList(pose), box: null, score: pose ? 0.9 : 0 }) as PoseFrame);
}

const options = { model: 'cx', view: 'auto', profile: 'stance' } as const;

describe('buildDetailedResult', () => {
  const poses: Array<Pose | null> = [rightFacingPose(), rightFacingPose(), null, rightFacingPose(), rightFacingPose()];

  it('keeps a frame without the subject as a gap, with nulls, and says how many there were', () => {
    const r = buildDetailedResult(info, poseFrames(poses), options);
    expect(r.frames_data[2]).toEqual({
      frame_index: 4, timestamp: 2 / 15, keypoints: null, detected_view: null, score: null, raw_scores_percent: null, measurements: null,
    });
    expect(r.aggregated_results.side_detection_summary).toEqual({ left: 0, right: 4, front: 0 });
    expect(r).toMatchObject({ detected_view: 'right', view_confidence: 1, processed_frames: 5 });
    expect(r.representative_frame?.frame_index).not.toBe(4);
    expect(r.warnings).toContain('The subject is not found in 1 of 5 frames (gaps: null keypoints and measurements)');
  });

  it('states the scale of its cm values: estimated, or the subject height when given', () => {
    const estimated = buildDetailedResult(info, poseFrames(poses), options);
    expect(estimated.scale?.source).toBe('estimated');
    expect(estimated.units.leg_spread).toBe('cm');
    const tall = buildDetailedResult(info, poseFrames(poses), { ...options, subjectHeightCm: 180 });
    const short = buildDetailedResult(info, poseFrames(poses), { ...options, subjectHeightCm: 160 });
    expect(tall.scale).toMatchObject({ source: 'subject_height', height_cm: 180 });
    expect(tall.aggregated_results.measurements.leg_spread! / short.aggregated_results.measurements.leg_spread!).toBeCloseTo(180 / 160, 3);
  });

  it('warns when the clip view is ambiguous', () => {
    const r = buildDetailedResult(info, poseFrames([rightFacingPose(), frontPose(), rightFacingPose(), frontPose()]), options);
    expect(r.view_confidence).toBe(0.5);
    expect(r.warnings.join('\n')).toMatch(/View is ambiguous: 50% front, 50% right/);
  });
});

describe('framesCsv', () => {
  it('writes a gap frame as a row of empty cells after its index and time', () => {
    const csv = framesCsv(buildDetailedResult(info, poseFrames([rightFacingPose(), null, rightFacingPose()]), options));
    const [header, first, gap] = csv.split('\r\n');
    const columns = header!.split(',').length;
    expect(first!.split(',')).toHaveLength(columns);
    expect(gap).toBe(['2', String(1 / 15), ...Array(columns - 2).fill('')].join(','));
    expect(first).not.toMatch(/,,/);
  });
});
