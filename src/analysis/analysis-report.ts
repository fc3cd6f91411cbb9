import { describeScale, getProfile, type ViewFeedback } from '../posture/index.ts';
import { measurementNames, metricsForView, type MetricDefinition, type View } from '../posture/profile.ts';
import { formatValue, round } from '../posture/scoring.ts';
import { overlayCaption, type OverlayContent } from '../overlay/overlay-content.ts';
import type { AnalysisReportInput, ReportComparisonRow, ReportMetric, ReportView } from '../report/pdf-report.ts';
import type { Analysis } from './analyses.repository.ts';
import { assessedSubject } from './subject-details.ts';
import type { DetailedResult } from './view-analysis.ts';

/** One view of the person's previous assessment, as its stored result holds it. */
export interface PreviousView {
  score: number | null;
  measurements: Readonly<Record<string, number>>;
  percents: Readonly<Record<string, number>>;
}

/** The previous assessment of the same person, read from its analyses row. */
export interface PreviousAssessment {
  createdAt: Date;
  sessionId: string;
  overallScore: number | null;
  views: Readonly<Record<string, PreviousView>>;
}

/** An analysed view as the report needs it. */
export interface AnalysedView {
  detailed: DetailedResult;
  feedback: ViewFeedback;
  overlay: { png: Buffer; content: OverlayContent } | undefined;
  /** A video view's angles-over-time chart, rasterised for the PDF. */
  chartPng?: Buffer;
}

/** A sub-score moving less than this (in points) reads as unchanged. */
const SAME_PERCENT = 0.5;

/**
 * What the PDF shows of a finished analysis: the person assessed (not the account holder, who is only named as the
 * one the report was prepared by), the summary, and per view the measures, feedback and the change since the same
 * person's previous assessment when there is one.
 */
export function analysisReportInput(input: {
  analysis: Analysis;
  user: { name: string; email: string };
  summary: string;
  overallScore: number | null;
  views: readonly AnalysedView[];
  previous: Analysis | null;
  finishedAt: Date;
}): AnalysisReportInput {
  const { analysis } = input;
  const previous = input.previous ? previousAssessmentOf(input.previous) : null;
  return {
    analysis: { id: analysis.id, session_id: analysis.sessionId, model_name: analysis.modelName, profile: analysis.profile,
      created_at: analysis.createdAt, finished_at: input.finishedAt },
    user: input.user,
    subject: assessedSubject(analysis),
    summary: input.summary,
    overall_score: input.overallScore,
    ...(previous ? { previous: { created_at: previous.createdAt, session_id: previous.sessionId, overall_score: previous.overallScore } } : {}),
    views: input.views.map((v) => ({
      ...reportViewOf(v.detailed, v.feedback, v.overlay, previous?.views[v.detailed.view]),
      ...(v.chartPng ? { chartPng: v.chartPng } : {}),
    })),
  };
}

/**
 * One view of the PDF report: the measures with their normal ranges and sources, the feedback and, given the same
 * view of the previous assessment, the comparison with it; the overlay's caption says which frame the picture is,
 * since the table holds the aggregate.
 */
export function reportViewOf(
  detailed: DetailedResult,
  feedback: ViewFeedback,
  overlay: { png: Buffer; content: OverlayContent } | undefined,
  previous?: PreviousView,
): ReportView {
  const aggregate = detailed.aggregated_results;
  const measured = metricsForView(getProfile(detailed.profile), detailed.view as View)
    .filter((metric) => aggregate.raw_scores_percent[metric.name] !== undefined);
  const metrics = measured.map((metric): ReportMetric => ({
    name: metric.name, label: metric.label, normalRange: metric.normalRange, source: metric.source,
    percent: aggregate.raw_scores_percent[metric.name]!,
    measured: partValues(metric, aggregate.measurements).map(({ part, value }) => `${part ? `${part} ` : ''}${formatValue(value, metric.units)}`).join(', '),
  }));
  return {
    view: detailed.view,
    detected_view: detailed.detected_view ?? 'none',
    overall_score: aggregate.overall_score ?? 0,
    metrics,
    feedback: Object.entries(feedback).map(([metric, entry]) => ({ metric, ...entry })),
    ...(overlay ? { overlayPng: overlay.png, overlayCaption: overlayCaption(overlay.content) } : {}),
    // The table shows cm values: the report says once what they were scaled by.
    ...(measured.some((m) => m.units === 'cm') ? { scale: describeScale(detailed.scale) } : {}),
    warnings: detailed.warnings,
    ...(previous ? { comparison: { previousScore: previous.score, rows: comparisonRows(measured, detailed, previous) } } : {}),
  };
}

function partValues(metric: MetricDefinition, measurements: Readonly<Record<string, number>>): Array<{ part: string; name: string; value: number }> {
  return measurementNames(metric).flatMap((name, i) => {
    const value = measurements[name];
    return value === undefined ? [] : [{ part: metric.parts?.[i] ?? '', name, value }];
  });
}

/** One row per measurement of this view, its previous value beside it; the change is coloured by the sub-score's. */
function comparisonRows(metrics: readonly MetricDefinition[], detailed: DetailedResult, previous: PreviousView): ReportComparisonRow[] {
  const aggregate = detailed.aggregated_results;
  return metrics.flatMap((metric) => {
    const before = previous.percents[metric.name];
    const now = aggregate.raw_scores_percent[metric.name]!;
    const trend = before === undefined ? undefined
      : Math.abs(now - before) < SAME_PERCENT ? 'same' as const : now > before ? 'better' as const : 'worse' as const;
    return partValues(metric, aggregate.measurements).map(({ part, name, value }): ReportComparisonRow => {
      const old = previous.measurements[name];
      return {
        label: part ? `${metric.label} (${part})` : metric.label,
        previous: old === undefined ? '-' : formatValue(old, metric.units),
        current: formatValue(value, metric.units),
        change: old === undefined ? '-' : change(old, value, metric.units),
        ...(trend && old !== undefined ? { trend } : {}),
      };
    });
  });
}

/** The change between the values as printed (to 0.1), so the three columns add up for the reader. */
function change(before: number, now: number, units: string): string {
  const delta = round(round(now, 1) - round(before, 1), 1);
  return `${delta > 0 ? '+' : ''}${formatValue(delta === 0 ? 0 : delta, units)}`;
}

/**
 * The stored result of an earlier analysis, read back checked rather than cast: it was written by an older version
 * perhaps, so anything not of the expected shape is left out instead of trusted.
 */
export function previousAssessmentOf(analysis: Analysis): PreviousAssessment {
  const stored = isRecord(analysis.result) && isRecord(analysis.result.views) ? analysis.result.views : {};
  const views: Record<string, PreviousView> = {};
  for (const [view, value] of Object.entries(stored)) {
    if (!isRecord(value)) continue;
    const score = isRecord(value.score) ? value.score.overall_score : null;
    views[view] = {
      score: isFiniteNumber(score) ? score : null,
      measurements: numbersOf(value.measurements),
      percents: numbersOf(value.raw_scores_percent),
    };
  }
  return { createdAt: analysis.createdAt, sessionId: analysis.sessionId, overallScore: analysis.overallScore, views };
}

function numbersOf(value: unknown): Record<string, number> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => isFiniteNumber(entry[1])));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
