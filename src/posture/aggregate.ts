// A video (or any series of pose frames) → per-frame results plus one robust aggregate per view (SPEC 5, 3).
import { KeypointInputError } from './errors.ts';
import {
  measurePose,
  readingValues,
  resolveOptions,
  scoreMeasurements,
  viewsAgree,
  type EvaluateOptions,
  type ScoredMetrics,
  type ScoreMap,
} from './evaluate-view.ts';
import { BODY_KEYPOINT_COUNT, normalizeKeypoints, type Keypoint } from './keypoints.ts';
import { measurementNames, metricsForView, type DetectedView, type View } from './profile.ts';
import { median, round, trimmedMean } from './scoring.ts';
import { filterTracks, type TrackFilterOptions } from './track-filter.ts';

export interface PoseFrameInput {
  frame_index: number;
  /** Seconds from the start of the video. */
  timestamp: number;
  /** Any shape `normalizeKeypoints` accepts; null when no person was found in the frame. */
  keypoints: unknown;
}

export interface AggregateOptions extends EvaluateOptions {
  /** Track cleaning options, or false to measure the raw keypoints. */
  filter?: TrackFilterOptions | false;
  /** Fraction trimmed at each end for the robust mean (default 0.2). */
  trim?: number;
  /** A metric measured in fewer than this fraction of the scoring view's frames is left out (default 0.2). */
  minFrameFraction?: number;
}

export interface FrameResult {
  frame_index: number;
  timestamp: number;
  /** Cleaned keypoints, as measured. */
  keypoints: Keypoint[];
  detected_view: DetectedView;
  score: ScoreMap;
  raw_scores_percent: Record<string, number>;
  measurements: Record<string, number>;
}

export interface SideDetectionSummary {
  left: number;
  right: number;
  front: number;
}

export interface AggregatedResults extends ScoredMetrics {
  side_detection_summary: SideDetectionSummary;
  /** Frames whose detected side matches the scoring view: the ones the aggregate is computed from. */
  frames_used: number;
}

export interface VideoEvaluation {
  view: View;
  detected_view: DetectedView;
  profile: string;
  frames_data: FrameResult[];
  aggregated_results: AggregatedResults;
  /** The frame whose measurements lie closest to the aggregate: the one to draw the overlay on. */
  representative_frame_index: number | null;
  warnings: string[];
}

function majority<T extends string>(counts: Readonly<Record<T, number>>, order: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const key of order) if ((counts[key] ?? 0) > 0 && (best === undefined || counts[key] > counts[best])) best = key;
  return best;
}

/**
 * Scores every frame, groups frames by detected side and aggregates each measurement with a trimmed mean over
 * the frames of the scoring view (declared, or the most frequent detected side for `auto`), then scores the
 * aggregate under the same bands, so the aggregate's score and its measurements always agree.
 * @throws PostureInputError for unreadable keypoints (message names the frame), unknown profile or invalid view
 */
export function evaluateFrames(frames: readonly PoseFrameInput[], options: AggregateOptions = {}): VideoEvaluation {
  const resolved = resolveOptions(options);
  const raw = frames.map((f, i) => {
    if (f.keypoints === null || f.keypoints === undefined) {
      return Array.from({ length: BODY_KEYPOINT_COUNT }, () => [0, 0, 0] as Keypoint);
    }
    try {
      return normalizeKeypoints(f.keypoints);
    } catch (error) {
      if (error instanceof KeypointInputError) throw new KeypointInputError(`frame ${f.frame_index ?? i}: ${error.message}`);
      throw error;
    }
  });
  const cleaned =
    options.filter === false
      ? raw
      : filterTracks(
          frames.map((f, i) => ({ timestamp: f.timestamp, keypoints: raw[i]! })),
          { confidenceThreshold: resolved.confidenceThreshold, ...options.filter },
        );

  const measured = cleaned.map((kps) => measurePose(kps, resolved));
  const summary: SideDetectionSummary = { left: 0, right: 0, front: 0 };
  for (const m of measured) summary[m.detectedView]++;
  const detected = majority(summary, ['left', 'right', 'front']) ?? 'front';
  const view: View = resolved.view === 'auto' ? detected : resolved.view;
  const warnings: string[] = [];

  let used = measured.map((_, i) => i).filter((i) => viewsAgree(view, measured[i]!.detectedView));
  if (measured.length > 0 && used.length === 0) {
    warnings.push(`No frame looks like a '${view}' view (detected: ${JSON.stringify(summary)}); all frames used.`);
    used = measured.map((_, i) => i);
  } else if (used.length < measured.length) {
    warnings.push(`${measured.length - used.length} of ${measured.length} frames look like another view than '${view}' and are left out of the aggregate.`);
  }

  // Robust mean of each metric over the scoring frames that measured it.
  const profile = resolved.profile;
  const minFrames = Math.max(1, Math.ceil((options.minFrameFraction ?? 0.2) * used.length));
  const aggregated: Record<string, number> = {};
  const series: Record<string, number[]> = {};
  for (const metric of metricsForView(profile, view)) {
    const names = measurementNames(metric);
    const withMetric = used.filter((i) => measured[i]!.readings.has(metric.name));
    if (withMetric.length < minFrames) {
      if (used.length > 0) warnings.push(`Left out ${metric.name}: measured in ${withMetric.length} of ${used.length} frames.`);
      continue;
    }
    for (const name of names) {
      const values = withMetric.map((i) => measured[i]!.readings.get(metric.name)!.values[name]!);
      series[name] = values;
      aggregated[name] = trimmedMean(values, options.trim ?? 0.2);
    }
  }
  const modes: Record<string, number> = {};
  for (const i of used) {
    const mode = measured[i]!.mode;
    if (mode !== undefined) modes[mode] = (modes[mode] ?? 0) + 1;
  }
  const mode = majority(modes, Object.keys(modes));
  const scored = scoreMeasurements(profile, view, mode, aggregated);
  if (scored.overall_posture_score === null) warnings.push('No metric could be measured in any frame.');

  const framesData: FrameResult[] = frames.map((f, i) => {
    const m = measured[i]!;
    const s = scoreMeasurements(profile, m.view, m.mode, readingValues(m.readings));
    return {
      frame_index: f.frame_index,
      timestamp: f.timestamp,
      keypoints: cleaned[i]!.map(([x, y, c]) => [round(x, 2), round(y, 2), round(c, 4)] as Keypoint),
      detected_view: m.detectedView,
      score: s.score,
      raw_scores_percent: s.raw_scores_percent,
      measurements: s.measurements,
    };
  });

  return {
    view,
    detected_view: detected,
    profile: profile.name,
    frames_data: framesData,
    aggregated_results: { ...scored, side_detection_summary: summary, frames_used: used.length },
    representative_frame_index: closestFrame(used, measured, aggregated, series, frames),
    warnings,
  };
}

/**
 * Distance of a frame to the aggregate: mean squared z-score over the aggregated measurements (robust scale,
 * floored at 1 unit); a measurement the frame lacks costs as much as 3 units of scale.
 */
function closestFrame(
  used: readonly number[],
  measured: readonly ReturnType<typeof measurePose>[],
  aggregated: Readonly<Record<string, number>>,
  series: Readonly<Record<string, number[]>>,
  frames: readonly PoseFrameInput[],
): number | null {
  const names = Object.keys(aggregated);
  let best: number | null = null;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const i of used) {
    const values = readingValues(measured[i]!.readings);
    let cost = 0;
    for (const name of names) {
      const v = values[name];
      const center = aggregated[name]!;
      const all = series[name] ?? [];
      const scale = Math.max(1, 1.4826 * median(all.map((x) => Math.abs(x - center))));
      cost += v === undefined ? 9 : ((v - center) / scale) ** 2;
    }
    cost /= Math.max(1, names.length);
    if (cost < bestCost) {
      bestCost = cost;
      best = frames[i]!.frame_index;
    }
  }
  return best;
}
