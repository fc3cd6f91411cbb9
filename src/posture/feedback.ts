// Words for a scored view (SPEC 6), generated from the profile's own bands so text and score never disagree.
import {
  bandFor,
  measurementNames,
  metricsForView,
  type FeedbackDirection,
  type MetricDefinition,
  type ProfileDefinition,
  type View,
} from './profile.ts';
import { getProfile } from './profiles.ts';
import { bandDirection, formatRange, formatValue } from './scoring.ts';

export interface MetricFeedbackEntry {
  commendation?: string;
  critique?: string;
  suggestions: string[];
}

/** `{<metric>: entry}` for one view. */
export type ViewFeedback = Record<string, MetricFeedbackEntry>;
/** `{<view>: {<metric>: entry}}`, the shape of `feedback.json`. */
export type FeedbackReport = Partial<Record<View, ViewFeedback>>;

/** The parts of a per-view or aggregated result that feedback reads. */
export interface FeedbackInput {
  measurements: Readonly<Record<string, number>>;
  raw_scores_percent: Readonly<Record<string, number>>;
  posture_mode?: string;
}

/** Below this sub-score (in %) a metric gets the full critique; between it and 100 a mild one. */
export const LOW_SCORE_PERCENT = 50;

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (all, key: string) => vars[key] ?? all).replace(/\s+/g, ' ').trim();
}

function metricEntry(metric: MetricDefinition, input: FeedbackInput, percent: number): MetricFeedbackEntry {
  const band = bandFor(metric, input.posture_mode);
  const range = formatRange(band, metric.units);
  const names = measurementNames(metric);
  const values = names.map((n) => input.measurements[n]);
  if (percent >= 100) {
    const shown = values.filter((v): v is number => v !== undefined).map((v) => formatValue(v, metric.units));
    return { commendation: fill(metric.feedback.commendation, { value: shown.join(', '), range }), suggestions: [] };
  }
  const sentences: string[] = [];
  const directions: FeedbackDirection[] = [];
  names.forEach((_name, i) => {
    const v = values[i];
    if (v === undefined) return;
    const where = bandDirection(v, band);
    if (where === 'ideal') return;
    const direction = where === 'low' ? metric.feedback.tooLow : metric.feedback.tooHigh;
    const part = metric.parts?.[i] ?? '';
    sentences.push(fill(direction.critique, { value: formatValue(v, metric.units), range, part }));
    if (!directions.includes(direction)) directions.push(direction);
  });
  const low = percent < LOW_SCORE_PERCENT;
  const suggestions = [...new Set(directions.flatMap((d) => (low ? d.suggestions : d.suggestions.slice(0, 1))))];
  const critique = sentences.join(' ');
  return { critique: low ? critique : `Nearly there: ${critique}`, suggestions };
}

/**
 * Feedback for one view: a commendation for a full score, a mild critique for a partial one, and for a score
 * below 50 % a critique quoting the measured value and target range with every suggestion for that direction.
 * Metrics left out of the result get no entry.
 */
export function buildViewFeedback(profile: string | ProfileDefinition, view: View, input: FeedbackInput): ViewFeedback {
  const out: ViewFeedback = {};
  const definition = typeof profile === 'object' ? profile : getProfile(profile);
  for (const metric of metricsForView(definition, view)) {
    const percent = input.raw_scores_percent[metric.name];
    if (percent === undefined) continue;
    out[metric.name] = metricEntry(metric, input, percent);
  }
  return out;
}

/** `feedback.json` for every analysed view of a session. */
export function buildFeedback(
  profile: string | ProfileDefinition,
  views: Partial<Record<View, FeedbackInput>>,
): FeedbackReport {
  const report: FeedbackReport = {};
  for (const [view, input] of Object.entries(views) as [View, FeedbackInput | undefined][]) {
    if (input) report[view] = buildViewFeedback(profile, view, input);
  }
  return report;
}

/** The one-line summary by overall score (0-100), as the studio clients show it. */
export function summarizeScore(overallScore: number | null): string {
  if (overallScore === null || !Number.isFinite(overallScore)) return 'Posture could not be measured.';
  if (overallScore >= 90) return 'Excellent posture!';
  if (overallScore >= 80) return 'Good posture with minor improvements needed.';
  if (overallScore >= 70) return 'Fair posture, consider adjustments.';
  return 'Poor posture, significant improvements needed.';
}
