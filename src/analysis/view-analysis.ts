import { estimateMedia, type MediaInfo, type PoseFrame } from '../pose/analyze-media.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { evaluateFrames, type AggregatedResults, type FrameResult, type ViewOption } from '../posture/index.ts';

/** One view's detailed result, the `detailed_{view}.json` document of SPEC section 3. */
export interface DetailedResult {
  file_type: 'image' | 'video';
  view: string;
  detected_view: string;
  profile: string;
  model: string;
  analysis_timestamp: string;
  total_frames: number;
  processed_frames: number;
  frame_skip: number;
  fps: number;
  width: number;
  height: number;
  frames_data: Array<Pick<FrameResult, 'frame_index' | 'timestamp' | 'keypoints' | 'score' | 'raw_scores_percent' | 'measurements'>>;
  aggregated_results: AggregatedResults & { overall_score: number | null };
  /** The frame whose measurements lie closest to the aggregate: the overlay is drawn on it. */
  representative_frame: { frame_index: number; timestamp: number } | null;
  warnings: string[];
}

export interface ViewAnalysisOptions {
  estimator: PoseEstimator;
  model: string;
  view: ViewOption;
  profile: string;
  frameStep: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Finds the person in every sampled frame of one media file and measures the posture over them. */
export async function analyseViewMedia(input: string | Uint8Array, options: ViewAnalysisOptions): Promise<DetailedResult> {
  let info: MediaInfo | undefined;
  const frames: PoseFrame[] = [];
  for await (const frame of estimateMedia(input, {
    estimator: options.estimator,
    model: options.model,
    frameStep: options.frameStep,
    signal: options.signal,
    onInfo: (i) => (info = i),
    onProgress: (done, total) => options.onProgress?.(total > 0 ? done / total : 1),
  })) {
    frames.push(frame);
  }
  if (!info) throw new Error('media information missing after decoding');
  return buildDetailedResult(info, frames, options);
}

export function buildDetailedResult(
  info: MediaInfo,
  frames: readonly PoseFrame[],
  options: Pick<ViewAnalysisOptions, 'model' | 'view' | 'profile'>,
): DetailedResult {
  const detected = frames.filter((f) => f.keypoints).length;
  const warnings: string[] = [];
  if (detected === 0) warnings.push('No person detected');
  else if (detected < frames.length) warnings.push(`No person detected in ${frames.length - detected} of ${frames.length} frames`);

  const evaluation = evaluateFrames(frames.map((f) => ({ frame_index: f.frame_index, timestamp: f.timestamp, keypoints: f.keypoints })), {
    view: options.view,
    profile: options.profile,
  });
  const representative = evaluation.frames_data.find((f) => f.frame_index === evaluation.representative_frame_index);
  const { aggregated_results: aggregate } = evaluation;
  return {
    file_type: info.file_type,
    view: evaluation.view,
    detected_view: evaluation.detected_view,
    profile: evaluation.profile,
    model: options.model,
    analysis_timestamp: new Date().toISOString(),
    total_frames: info.total_frames,
    processed_frames: frames.length,
    frame_skip: info.frame_step,
    fps: info.fps,
    width: info.width,
    height: info.height,
    frames_data: evaluation.frames_data.map(({ frame_index, timestamp, keypoints, score, raw_scores_percent, measurements }) =>
      ({ frame_index, timestamp, keypoints, score, raw_scores_percent, measurements })),
    aggregated_results: { ...aggregate, overall_score: aggregate.score.overall_score },
    representative_frame: representative ? { frame_index: representative.frame_index, timestamp: representative.timestamp } : null,
    warnings: [...warnings, ...evaluation.warnings],
  };
}
