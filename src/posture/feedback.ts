// Words for scored views (SPEC 6), generated from the profile's own bands so text and score never disagree.
// Every sentence says where it was measured (view, measure, value, normal range) and every entry carries them as
// data: advice read apart from what was measured misleads (a stance profile's arm target read by someone walking).
import {
  bandFor,
  measurementNames,
  metricsForView,
  VIEWS,
  type FeedbackDirection,
  type MetricDefinition,
  type ProfileDefinition,
  type View,
} from './profile.ts';
import { getProfile } from './profiles.ts';
import { bandDirection, formatRange, formatValue, scoreBand, type Band } from './scoring.ts';

export interface MetricFeedbackEntry {
  commendation?: string;
  critique?: string;
  suggestions: string[];
  view: View;
  profile: string;
  label: string;
  /** The measurement the entry is about: the metric's own, or the part furthest off for a two-part metric. */
  measurement: string;
  value: number;
  units: MetricDefinition['units'];
  /** The normal (full-score) range under the bands that scored it, e.g. "150 to 170°". */
  target: string;
  /** Every measurement of the metric (both parts of a two-part one). */
  measurements: Record<string, number>;
  score_percent: number;
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

/** One analysed view as the overall summary reads it (a detailed result's aggregate plus its view and profile). */
export interface AssessedView extends FeedbackInput {
  view: View;
  profile: string;
  overall_score: number | null;
}

/** Below this sub-score (in %) a metric gets the full critique; between it and 100 a mild one. */
export const LOW_SCORE_PERCENT = 50;
/** Views whose scores differ by at least this many points: the weakest one is named as what pulled the score down. */
export const VIEW_SPREAD_POINTS = 20;
/** Every view at or above this score (the "Excellent" band) counts as fine. */
const FINE_SCORE = 90;
/** A second measure is named only when it cost at least this share of the points the first one cost. */
const SECOND_MEASURE_SHARE = 0.5;

interface Reading {
  name: string;
  part: string | undefined;
  value: number;
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (all, key: string) => vars[key] ?? all).replace(/\s+/g, ' ').trim();
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function readingsOf(metric: MetricDefinition, measurements: FeedbackInput['measurements']): Reading[] {
  return measurementNames(metric).flatMap((name, i) => {
    const value = measurements[name];
    return value === undefined ? [] : [{ name, part: metric.parts?.[i], value }];
  });
}

/** The reading with the lowest sub-score; the first in the metric's part order on ties. */
function worstReading(readings: readonly Reading[], band: Band): Reading {
  return readings.reduce((worst, r) => (scoreBand(r.value, band) < scoreBand(worst.value, band) ? r : worst));
}

/** "knee angle 152° (normal 150 to 170°)", "right foot to shoulder offset 4.8 cm (…)", "… left 1 cm, right 2 cm (…)". */
function describeMeasure(metric: MetricDefinition, readings: readonly Reading[], range: string): string {
  const label = lowerFirst(metric.label);
  const value = (r: Reading) => formatValue(r.value, metric.units);
  const measured = readings.length === 1
    ? [readings[0]!.part, label, value(readings[0]!)].filter(Boolean).join(' ')
    : `${label} ${readings.map((r) => `${r.part} ${value(r)}`).join(', ')}`;
  return `${measured} (normal ${range})`;
}

function inView(view: View, measure: string): string {
  return `${view.charAt(0).toUpperCase()}${view.slice(1)} view, ${measure}`;
}

function adviceFor(direction: FeedbackDirection, mode: string | undefined): string[] {
  const byMode = mode !== undefined ? direction.suggestionsByMode?.[mode] ?? [] : [];
  return [...direction.suggestions, ...byMode];
}

function metricEntry(
  profile: ProfileDefinition,
  metric: MetricDefinition,
  view: View,
  input: FeedbackInput,
  percent: number,
): MetricFeedbackEntry | undefined {
  const band = bandFor(metric, input.posture_mode);
  const range = formatRange(band, metric.units);
  const readings = readingsOf(metric, input.measurements);
  if (readings.length === 0) return undefined;
  const headline = worstReading(readings, band);
  const context = {
    view,
    profile: profile.name,
    label: metric.label,
    measurement: headline.name,
    value: headline.value,
    units: metric.units,
    target: range,
    measurements: Object.fromEntries(readings.map((r) => [r.name, r.value])),
    score_percent: percent,
  };
  const off = readings.filter((r) => bandDirection(r.value, band) !== 'ideal');
  // A value a hair outside the band can round to 100 %, and one inside it has nothing to criticise.
  if (percent >= 100 || off.length === 0) {
    const values = readings.map((r) => formatValue(r.value, metric.units)).join(', ');
    const text = fill(metric.feedback.commendation, { value: values, range });
    return { commendation: `${inView(view, describeMeasure(metric, readings, range))}: ${text}`, suggestions: [], ...context };
  }
  const low = percent < LOW_SCORE_PERCENT;
  const sentences: string[] = [];
  const suggestions: string[] = [];
  for (const r of off) {
    const direction = bandDirection(r.value, band) === 'low' ? metric.feedback.tooLow : metric.feedback.tooHigh;
    const vars = { value: formatValue(r.value, metric.units), range, part: r.part ?? '' };
    const clause = fill(direction.critique, vars);
    sentences.push(`${inView(view, describeMeasure(metric, [r], range))}: ${low ? '' : 'nearly there, '}${clause}`);
    const advice = adviceFor(direction, input.posture_mode).map((text) => fill(text, vars));
    suggestions.push(...(low ? advice : advice.slice(0, 1)));
  }
  return { critique: sentences.join(' '), suggestions: [...new Set(suggestions)], ...context };
}

/**
 * Feedback for one view: a commendation for a full score, a mild critique for a partial one, and for a score
 * below 50 % a critique with every suggestion for that direction (plus those for the result's posture mode).
 * Each sentence starts with the view, the measure, its value and normal range. Metrics left out of the result,
 * or whose measurement is missing from it, get no entry.
 */
export function buildViewFeedback(profile: string | ProfileDefinition, view: View, input: FeedbackInput): ViewFeedback {
  const out: ViewFeedback = {};
  const definition = typeof profile === 'object' ? profile : getProfile(profile);
  for (const metric of metricsForView(definition, view)) {
    const percent = input.raw_scores_percent[metric.name];
    if (percent === undefined) continue;
    const entry = metricEntry(definition, metric, view, input, percent);
    if (entry) out[metric.name] = entry;
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

/** Points of the overall score one measure cost, and how to name it. */
interface Shortfall {
  view: View;
  points: number;
  measure: string;
}

/**
 * What each measured metric of a view cost the overall score: its renormalised weight × (100 − sub-score), times
 * the view's share of the overall mean. Over all views these add up to 100 − the unrounded overall score.
 */
function shortfallsOf(v: AssessedView, share: number): Shortfall[] {
  const measured = metricsForView(getProfile(v.profile), v.view).filter((m) => v.raw_scores_percent[m.name] !== undefined);
  const total = measured.reduce((sum, m) => sum + m.weight, 0);
  return measured.flatMap((metric) => {
    const points = share * (metric.weight / total) * (100 - v.raw_scores_percent[metric.name]!);
    const readings = readingsOf(metric, v.measurements);
    if (!(points > 0) || readings.length === 0) return [];
    const band = bandFor(metric, v.posture_mode);
    const measure = describeMeasure(metric, [worstReading(readings, band)], formatRange(band, metric.units));
    return [{ view: v.view, points, measure }];
  });
}

/** The measure that cost the most, and the next one when it cost nearly as much; ties keep view and profile order. */
function costliest(shortfalls: readonly Shortfall[]): Shortfall[] {
  const [first, second] = [...shortfalls].sort((a, b) => b.points - a.points);
  if (!first) return [];
  return second && second.points >= first.points * SECOND_MEASURE_SHARE ? [first, second] : [first];
}

/** "the left view's knee angle … and back angle …" or "the left view's … and the front view's …". */
function nameMeasures(measures: readonly Shortfall[], own?: string): string {
  return measures
    .map((m, i) => (i > 0 && m.view === measures[i - 1]!.view ? m.measure : `${own ?? `the ${m.view} view's`} ${m.measure}`))
    .join(' and ');
}

function joinViews(views: readonly View[]): string {
  return views.length === 1 ? `${views[0]} view` : `${views.slice(0, -1).join(', ')} and ${views.at(-1)} views`;
}

/**
 * The overall summary of an analysis: `summarizeScore` of the views' mean score (rounded as the analysis runner
 * does), then why, in a sentence or two: the view that pulled the score down when the views differ a lot, the
 * measure(s) that cost the most points with value and normal range, or that every view is fine. Deterministic:
 * views are read in VIEWS order and ties keep that order and the profile's metric order.
 */
export function summarizeAssessment(views: ReadonlyArray<AssessedView>): string {
  const ordered = [...views].sort((a, b) => VIEWS.indexOf(a.view) - VIEWS.indexOf(b.view));
  const scored = ordered.filter((v): v is AssessedView & { overall_score: number } => Number.isFinite(v.overall_score));
  if (scored.length === 0) {
    const why = ordered.length ? ` No measure could be taken in the ${joinViews(ordered.map((v) => v.view))}.` : '';
    return `${summarizeScore(null)}${why}`;
  }
  const overall = Math.round(scored.reduce((sum, v) => sum + v.overall_score, 0) / scored.length);
  const phrase = summarizeScore(overall);
  const shortfalls = scored.flatMap((v) => shortfallsOf(v, 1 / scored.length));
  const weakest = scored.reduce((w, v) => (v.overall_score < w.overall_score ? v : w));
  const best = Math.max(...scored.map((v) => v.overall_score));
  if (best - weakest.overall_score >= VIEW_SPREAD_POINTS) {
    const others = scored.filter((v) => v !== weakest).map((v) => `${v.view} ${v.overall_score}`).join(', ');
    const measures = costliest(shortfalls.filter((s) => s.view === weakest.view));
    const lost = measures.length ? ` Most points were lost on ${nameMeasures(measures, 'its')}.` : '';
    return `${phrase} The ${weakest.view} view pulled the score down: ${weakest.overall_score}, against ${others}.${lost}`;
  }
  const measures = costliest(shortfalls);
  if (scored.every((v) => v.overall_score >= FINE_SCORE)) {
    if (measures.length === 0) {
      return `${phrase} Every measure is within its normal range in the ${joinViews(scored.map((v) => v.view))}.`;
    }
    const watch = measures.length === 1 ? 'the measure to watch is' : 'the measures to watch are';
    return `${phrase} Every view scores ${FINE_SCORE} or more; ${watch} ${nameMeasures(measures)}.`;
  }
  return measures.length ? `${phrase} Most points were lost on ${nameMeasures(measures)}.` : phrase;
}
