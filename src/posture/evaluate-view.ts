// One pose → one per-view result: measure every metric the profile defines for the view, then score it.
import { PostureInputError } from './errors.ts';
import { keypointOf, normalizeKeypoints, type Keypoint, type KeypointName } from './keypoints.ts';
import {
  bandFor,
  measurementNames,
  metricsForView,
  VIEWS,
  type DetectedView,
  type MetricContext,
  type MetricReading,
  type ProfileDefinition,
  type View,
} from './profile.ts';
import { DEFAULT_PROFILE, getProfile } from './profiles.ts';
import { assertScaleOption, resolveScale, type ScaleOption, type ScaleSource } from './scale.ts';
import { round, scoreBand } from './scoring.ts';
import { detectSide } from './side-detection.ts';

export const DEFAULT_CONFIDENCE_THRESHOLD = 0.3;

export type ViewOption = View | 'auto';

export interface EvaluateOptions {
  /** Profile name (default `stance`), or a profile definition not in the registry (tests, experiments). */
  profile?: string | ProfileDefinition;
  /** The view the user declared; `auto` (default) scores the detected one. */
  view?: ViewOption;
  /** Where centimetres come from (default `estimated` from body proportions); see scale.ts. */
  scale?: ScaleOption;
  /** A known scale in cm per image pixel: shorthand for `scale: { source: 'calibration', cmPerPx }`. */
  pxToCm?: number;
  confidenceThreshold?: number;
}

/** Measurement name → unit, so every value in a result says whether it is degrees or centimetres. */
export type MeasurementUnits = Record<string, '°' | 'cm'>;

/** `score` holds each metric's weighted sub-score plus `overall_score` (0-100), as the studio clients expect. */
export type ScoreMap = { overall_score: number | null } & { [metric: string]: number | null };

export interface ScoredMetrics {
  score: ScoreMap;
  raw_scores_percent: Record<string, number>;
  measurements: Record<string, number>;
  /** Σ weight × sub-score over the measured metrics, 0-1; null when no metric could be measured. */
  overall_posture_score: number | null;
  omitted_metrics: string[];
  /** Metric → which keypoint stands in for which clinical landmark (only metrics that rely on proxies). */
  proxies: Record<string, string>;
  /** Posture mode chosen by the profile (e.g. `sitting`), when it has a classifier. */
  posture_mode?: string;
}

export interface PoseEvaluation extends ScoredMetrics {
  view: View;
  detected_view: DetectedView;
  profile: string;
  /** The scale of every cm value; null when none could be resolved (cm metrics are then omitted). */
  scale: ScaleSource | null;
  units: MeasurementUnits;
  warnings: string[];
}

/** Raw readings of one pose, unrounded: what aggregation and the overlay build on. */
export interface PoseMeasurement {
  profile: ProfileDefinition;
  view: View;
  detectedView: DetectedView;
  mode: string | undefined;
  readings: Map<string, MetricReading>;
  omitted: string[];
  scale: ScaleSource | null;
  warnings: string[];
}

export interface ResolvedOptions {
  profile: ProfileDefinition;
  view: ViewOption;
  scale: ScaleOption;
  confidenceThreshold: number;
}

/** Validates options once, so HTTP handlers can reject a bad view or profile before any work. */
export function resolveOptions(options: EvaluateOptions = {}): ResolvedOptions {
  const view = options.view ?? 'auto';
  if (view !== 'auto' && !VIEWS.includes(view)) {
    throw new PostureInputError('invalid_view', `Invalid view: ${String(view)}. Use one of: auto, ${VIEWS.join(', ')}`);
  }
  if (options.pxToCm !== undefined && options.scale !== undefined) {
    throw new PostureInputError('invalid_option', 'Give either pxToCm or scale, not both');
  }
  const scale: ScaleOption = options.pxToCm !== undefined
    ? { source: 'calibration', cmPerPx: options.pxToCm }
    : options.scale ?? { source: 'estimated' };
  assertScaleOption(scale);
  const confidenceThreshold = options.confidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD;
  if (!(confidenceThreshold >= 0 && confidenceThreshold <= 1)) {
    throw new PostureInputError('invalid_option', 'confidenceThreshold must be between 0 and 1');
  }
  const profile = typeof options.profile === 'object' ? options.profile : getProfile(options.profile ?? DEFAULT_PROFILE);
  return { profile, view, scale, confidenceThreshold };
}

export function makeContext(keypoints: readonly Keypoint[], view: View, pxToCm: number, threshold: number): MetricContext {
  const side = view === 'right' ? 'right' : 'left';
  return {
    view,
    side,
    // A right side toward the camera means the person faces image right (+x); a left side, image left.
    facing: side === 'right' ? 1 : -1,
    mirror: view === 'back' ? -1 : 1,
    pxToCm,
    point(name: KeypointName) {
      const [x, y, score] = keypointOf(keypoints, name);
      return score >= threshold ? { x, y } : undefined;
    },
  };
}

/** Declared view wins for scoring; `auto` takes the detected one (front, since back is never detected). */
export function scoringView(declared: ViewOption, detected: DetectedView): View {
  return declared === 'auto' ? detected : declared;
}

export function viewsAgree(view: View, detected: DetectedView): boolean {
  return view === detected || (view === 'back' && detected === 'front');
}

/**
 * Measures one pose. `scale` is the clip's resolved scale; left out, it is resolved from this pose alone (a photo,
 * or a caller such as the overlay that measures a single frame).
 */
export function measurePose(keypoints: readonly Keypoint[], options: ResolvedOptions, scale?: ScaleSource | null): PoseMeasurement {
  const { profile, confidenceThreshold: threshold } = options;
  const resolvedScale = scale === undefined ? resolveScale(options.scale, [keypoints], threshold) : scale;
  const detectedView = detectSide(keypoints, { minConfidence: threshold }).view;
  const view = scoringView(options.view, detectedView);
  const warnings: string[] = [];
  if (!viewsAgree(view, detectedView)) {
    warnings.push(`Declared view '${view}' but the keypoints look like a '${detectedView}' view; scored as '${view}'.`);
  }
  // Without a scale, cm metrics are left out rather than given in an unstated unit; NaN makes any slip visible.
  const ctx = makeContext(keypoints, view, resolvedScale?.cm_per_px ?? Number.NaN, threshold);
  const readings = new Map<string, MetricReading>();
  const omitted: string[] = [];
  for (const metric of metricsForView(profile, view)) {
    if (metric.units === 'cm' && !resolvedScale) {
      omitted.push(metric.name);
      warnings.push(`Left out ${metric.name}: no pixel-to-cm scale (no trunk or leg segment was visible to estimate it).`);
      continue;
    }
    const alternatives = metric.keypoints(ctx);
    const usable = alternatives.some((set) => set.every((name) => ctx.point(name)));
    if (!usable) {
      const weak = (alternatives[alternatives.length - 1] ?? [])
        .filter((name) => !ctx.point(name))
        .map((name) => `${name} ${round(keypointOf(keypoints, name)[2], 2)}`);
      omitted.push(metric.name);
      warnings.push(`Left out ${metric.name}: keypoints below confidence ${threshold} (${weak.join(', ')}).`);
      continue;
    }
    const reading = metric.measure(ctx);
    const names = measurementNames(metric);
    if (!reading || !names.every((n) => Number.isFinite(reading.values[n]))) {
      omitted.push(metric.name);
      warnings.push(`Left out ${metric.name}: keypoints coincide, so the measurement is undefined.`);
      continue;
    }
    readings.set(metric.name, reading);
  }
  const mode = profile.classifyMode?.(ctx);
  return { profile, view, detectedView, mode, readings, omitted, scale: resolvedScale, warnings };
}

/**
 * Scores measurement values (full measurement names → values) under the view's metrics. Metrics with no value
 * are left out and the remaining weights renormalised, so the overall score stays on the same 0-1 scale.
 */
export function scoreMeasurements(
  profile: ProfileDefinition,
  view: View,
  mode: string | undefined,
  values: Readonly<Record<string, number>>,
): ScoredMetrics {
  const measured: { name: string; weight: number; sub: number }[] = [];
  const omitted: string[] = [];
  const measurements: Record<string, number> = {};
  const proxies: Record<string, string> = {};
  for (const metric of metricsForView(profile, view)) {
    const names = measurementNames(metric);
    const vals = names.map((n) => values[n]);
    if (!vals.every((v): v is number => v !== undefined && Number.isFinite(v))) {
      omitted.push(metric.name);
      continue;
    }
    const band = bandFor(metric, mode);
    const sub = vals.reduce((s, v) => s + scoreBand(v, band), 0) / vals.length;
    measured.push({ name: metric.name, weight: metric.weight, sub });
    names.forEach((n, i) => (measurements[n] = round(vals[i]!, 2)));
    if (metric.proxy) proxies[metric.name] = metric.proxy;
  }
  const total = measured.reduce((s, m) => s + m.weight, 0);
  const score: ScoreMap = { overall_score: null };
  const raw: Record<string, number> = {};
  let overall = 0;
  for (const m of measured) {
    const weighted = (m.weight / total) * m.sub;
    overall += weighted;
    score[m.name] = round(weighted, 4);
    raw[m.name] = round(100 * m.sub, 2);
  }
  const any = measured.length > 0;
  score.overall_score = any ? Math.round(100 * overall) : null;
  const result: ScoredMetrics = {
    score,
    raw_scores_percent: raw,
    measurements,
    overall_posture_score: any ? round(overall, 4) : null,
    omitted_metrics: omitted,
    proxies,
  };
  if (mode !== undefined) result.posture_mode = mode;
  return result;
}

/** Units of every measurement the profile can report, in any view. */
export function measurementUnits(profile: ProfileDefinition): MeasurementUnits {
  const units: MeasurementUnits = {};
  for (const metric of profile.metrics) for (const name of measurementNames(metric)) units[name] = metric.units;
  return units;
}

/** Flattens readings into measurement name → unrounded value. */
export function readingValues(readings: ReadonlyMap<string, MetricReading>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const reading of readings.values()) Object.assign(out, reading.values);
  return out;
}

/**
 * Scores one pose (an image, or keypoints a client computed itself) under a profile and view. Centimetres use
 * `options.scale` (default: estimated from this pose's body proportions); the result states which in `scale`.
 * @param keypoints any shape `normalizeKeypoints` accepts (17/133 list or object keyed by COCO name)
 * @throws PostureInputError for unreadable keypoints, an unknown profile or an invalid view
 */
export function evaluatePose(keypoints: unknown, options: EvaluateOptions = {}): PoseEvaluation {
  const resolved = resolveOptions(options);
  const m = measurePose(normalizeKeypoints(keypoints), resolved);
  const scored = scoreMeasurements(m.profile, m.view, m.mode, readingValues(m.readings));
  const warnings = [...m.warnings];
  if (scored.overall_posture_score === null) {
    warnings.push(`No metric of profile '${m.profile.name}' could be measured in the '${m.view}' view.`);
  }
  return {
    view: m.view, detected_view: m.detectedView, profile: m.profile.name, ...scored,
    scale: m.scale, units: measurementUnits(m.profile), warnings,
  };
}
