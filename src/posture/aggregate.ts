// A video (or any series of pose frames) → per-frame results plus one robust aggregate per view (SPEC 5, 3).
import { KeypointInputError } from './errors.ts';
import {
  measurementUnits,
  measurePose,
  readingValues,
  resolveOptions,
  scoreMeasurements,
  viewsAgree,
  type EvaluateOptions,
  type MeasurementUnits,
  type PoseMeasurement,
  type ScoredMetrics,
  type ScoreMap,
} from './evaluate-view.ts';
import { normalizeKeypoints, type Keypoint } from './keypoints.ts';
import { measurementNames, metricsForView, type DetectedView, type View } from './profile.ts';
import { resolveScale, type ScaleSource } from './scale.ts';
import { median, round, trimmedMean } from './scoring.ts';
import { filterTracks, type TrackFilterOptions } from './track-filter.ts';
import { decideView, describeSides, type SideDetectionSummary } from './view-decision.ts';

export type { SideDetectionSummary } from './view-decision.ts';

export interface PoseFrameInput {
  frame_index: number;
  /** Seconds from the start of the video. */
  timestamp: number;
  /** Any shape `normalizeKeypoints` accepts; null when the subject is not in the frame (a gap). */
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

/** A frame with the subject: cleaned keypoints, as measured, and the frame's own scores. */
export interface MeasuredFrame {
  frame_index: number;
  timestamp: number;
  keypoints: Keypoint[];
  detected_view: DetectedView;
  score: ScoreMap;
  raw_scores_percent: Record<string, number>;
  measurements: Record<string, number>;
}

/** A frame without the subject: nothing was measured, and nothing is made up. */
export interface GapFrame {
  frame_index: number;
  timestamp: number;
  keypoints: null;
  detected_view: null;
  score: null;
  raw_scores_percent: null;
  measurements: null;
}

export type FrameResult = MeasuredFrame | GapFrame;

export interface AggregatedResults extends ScoredMetrics {
  /** Detected side per frame with the subject (gap frames are not counted). */
  side_detection_summary: SideDetectionSummary;
  /** Share (0-1) of the frames with the subject whose detected side is `detected_view`; null without any. */
  view_confidence: number | null;
  /** Frames whose detected side matches the scoring view: the ones the aggregate is computed from. */
  frames_used: number;
}

export interface VideoEvaluation {
  view: View;
  /** The clip's detected side (most frequent over the frames with the subject); null when there is none. */
  detected_view: DetectedView | null;
  view_confidence: number | null;
  profile: string;
  frames_data: FrameResult[];
  aggregated_results: AggregatedResults;
  /** One scale for the whole clip: every cm value, per frame and aggregated, was computed with it. */
  scale: ScaleSource | null;
  /** Unit of every measurement name in `frames_data` and `aggregated_results`. */
  units: MeasurementUnits;
  /** The frame whose measurements lie closest to the aggregate: the one to draw the overlay on. */
  representative_frame_index: number | null;
  warnings: string[];
}

/**
 * Scores every frame with the subject, decides the clip's view from the detected sides (view-decision.ts) and
 * aggregates each measurement with a trimmed mean over the frames of the scoring view (declared, or the clip's
 * view for `auto`), then scores the aggregate under the same bands, so its score and measurements always agree.
 * Frames without the subject (null keypoints) come out as gap frames and take part in nothing.
 * @throws PostureInputError for unreadable keypoints (message names the frame), unknown profile or invalid view
 */
export function evaluateFrames(frames: readonly PoseFrameInput[], options: AggregateOptions = {}): VideoEvaluation {
  const resolved = resolveOptions(options);
  const raw = frames.map((f, i): Keypoint[] | null => {
    if (f.keypoints === null || f.keypoints === undefined) return null;
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
          frames.map((f, i) => ({ timestamp: f.timestamp, keypoints: raw[i] ?? null })),
          { confidenceThreshold: resolved.confidenceThreshold, ...options.filter },
        );

  const present = cleaned.flatMap((kps) => (kps ? [kps] : []));
  const scale = resolveScale(resolved.scale, present, resolved.confidenceThreshold);
  const measured = cleaned.map((kps) => (kps ? measurePose(kps, resolved, scale) : null));
  const withPerson = measured.flatMap((m, i) => (m ? [i] : []));
  const summary: SideDetectionSummary = { left: 0, right: 0, front: 0 };
  for (const i of withPerson) summary[measured[i]!.detectedView]++;
  const decision = decideView(summary);
  const view: View = resolved.view === 'auto' ? decision.view ?? 'front' : resolved.view;
  const warnings: string[] = [];
  if (resolved.view === 'auto' && decision.ambiguous) {
    warnings.push(`View is ambiguous: ${describeSides(summary)}; scored as '${view}'. Declare the view to be sure.`);
  }

  const agreeing = withPerson.filter((i) => viewsAgree(view, measured[i]!.detectedView));
  let used = agreeing;
  if (withPerson.length > 0 && agreeing.length === 0) {
    warnings.push(`No frame looks like a '${view}' view (detected: ${JSON.stringify(summary)}); all frames with a person used.`);
    used = withPerson;
  } else if (agreeing.length < withPerson.length) {
    warnings.push(`${withPerson.length - agreeing.length} of ${withPerson.length} frames with a person look like another view than '${view}' and are left out of the aggregate.`);
  }

  const profile = resolved.profile;
  if (!scale && withPerson.length > 0 && metricsForView(profile, view).some((m) => m.units === 'cm')) {
    warnings.push('No cm values: no trunk or leg segment was visible in any frame to set a pixel-to-cm scale.');
  }

  // Robust mean of each metric over the scoring frames that measured it.
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
  const mode = majority(modes);
  const scored = scoreMeasurements(profile, view, mode, aggregated);
  if (scored.overall_posture_score === null) warnings.push('No metric could be measured in any frame.');

  const framesData = frames.map((f, i): FrameResult => {
    const m = measured[i];
    const kps = cleaned[i];
    if (!m || !kps) {
      return { frame_index: f.frame_index, timestamp: f.timestamp, keypoints: null, detected_view: null, score: null,
        raw_scores_percent: null, measurements: null };
    }
    const s = scoreMeasurements(profile, m.view, m.mode, readingValues(m.readings));
    return {
      frame_index: f.frame_index,
      timestamp: f.timestamp,
      keypoints: kps.map(([x, y, c]) => [round(x, 2), round(y, 2), round(c, 4)] as Keypoint),
      detected_view: m.detectedView,
      score: s.score,
      raw_scores_percent: s.raw_scores_percent,
      measurements: s.measurements,
    };
  });

  return {
    view,
    detected_view: decision.view,
    view_confidence: decision.confidence,
    profile: profile.name,
    frames_data: framesData,
    aggregated_results: { ...scored, side_detection_summary: summary, view_confidence: decision.confidence, frames_used: used.length },
    scale,
    units: measurementUnits(profile),
    // Drawn only on a frame that looks like the scoring view; `used` holds other frames only when none does (the
    // declared-view fallback above, whose warning says so), and then every number came from those frames anyway.
    representative_frame_index: closestFrame(used, measured, aggregated, series, frames),
    warnings,
  };
}

/** Most frequent key; ties go to the first in insertion order (frame order), so the result is deterministic. */
function majority(counts: Readonly<Record<string, number>>): string | undefined {
  let best: string | undefined;
  for (const [key, n] of Object.entries(counts)) if (best === undefined || n > counts[best]!) best = key;
  return best;
}

/**
 * Distance of a frame to the aggregate: mean squared z-score over the aggregated measurements (robust scale,
 * floored at 1 unit); a measurement the frame lacks costs as much as 3 units of scale.
 */
function closestFrame(
  used: readonly number[],
  measured: readonly (PoseMeasurement | null)[],
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
