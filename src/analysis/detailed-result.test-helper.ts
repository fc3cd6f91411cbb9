// A hand-made DetailedResult for exporter tests: every number is chosen, so expected cells can be worked out by hand.
import type { Keypoint } from '../posture/index.ts';
import type { DetailedFrame, DetailedResult } from './view-analysis.ts';

/** Keypoint i at (100 + 10 i, 200 + 20 i) px with score 0.9. */
export function syntheticKeypoints(): Keypoint[] {
  return Array.from({ length: 17 }, (_, i): Keypoint => [100 + 10 * i, 200 + 20 * i, 0.9]);
}

export function measuredFrame(frameIndex: number, timestamp: number, keypoints: Keypoint[], measurements: Record<string, number>): DetailedFrame {
  return {
    frame_index: frameIndex, timestamp, keypoints, detected_view: 'left', score: { overall_score: 80 },
    raw_scores_percent: {}, measurements,
  };
}

export function gapFrame(frameIndex: number, timestamp: number): DetailedFrame {
  return { frame_index: frameIndex, timestamp, keypoints: null, detected_view: null, score: null, raw_scores_percent: null, measurements: null };
}

/** A left-view video result, 1000 × 800 px at 30 fps analysed every 2nd frame; `overrides` replace whole fields. */
export function syntheticDetailedResult(frames: DetailedFrame[], overrides: Partial<DetailedResult> = {}): DetailedResult {
  return {
    file_type: 'video', view: 'left', detected_view: 'left', view_confidence: 1, profile: 'stance', model: 'cx',
    analysis_timestamp: '2025-01-01T00:00:00.000Z', total_frames: 2 * frames.length, processed_frames: frames.length,
    frame_skip: 2, fps: 30, width: 1000, height: 800, frames_data: frames,
    aggregated_results: {
      score: { overall_score: 80 }, raw_scores_percent: {}, measurements: {}, overall_posture_score: 0.8, omitted_metrics: [],
      proxies: {}, side_detection_summary: { left: frames.length, right: 0, front: 0 }, view_confidence: 1,
      frames_used: frames.length, overall_score: 80,
    },
    scale: { source: 'subject_height', cm_per_px: 0.25, height_cm: 175, stature_px: 700 },
    units: {},
    representative_frame: null,
    subject: { id: 0, rule: 'largest person' },
    people: [],
    keyframe_interval: 15,
    warnings: [],
    ...overrides,
  };
}
