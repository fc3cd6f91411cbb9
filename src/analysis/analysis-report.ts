import { getProfile } from '../posture/index.ts';
import { bandFor, measurementNames, metricsForView, type View } from '../posture/profile.ts';
import { formatRange, formatValue } from '../posture/scoring.ts';
import type { ViewFeedback } from '../posture/feedback.ts';
import type { ReportMetric, ReportView } from '../report/pdf-report.ts';
import type { DetailedResult } from './view-analysis.ts';

/** One view of the PDF report: the metric table rows (measured vs target) and the feedback, from the result. */
export function reportViewOf(detailed: DetailedResult, feedback: ViewFeedback, overlayPng: Buffer | undefined): ReportView {
  const aggregate = detailed.aggregated_results;
  const profile = getProfile(detailed.profile);
  const metrics: ReportMetric[] = [];
  for (const metric of metricsForView(profile, detailed.view as View)) {
    const percent = aggregate.raw_scores_percent[metric.name];
    if (percent === undefined) continue;
    const measured = measurementNames(metric)
      .map((name) => aggregate.measurements[name])
      .filter((v): v is number => v !== undefined)
      .map((v) => formatValue(v, metric.units))
      .join(' / ');
    metrics.push({
      name: metric.name, label: metric.label, measured,
      target: formatRange(bandFor(metric, aggregate.posture_mode), metric.units), percent,
    });
  }
  return {
    view: detailed.view,
    detected_view: detailed.detected_view,
    overall_score: aggregate.overall_score ?? 0,
    metrics,
    feedback: Object.entries(feedback).map(([metric, entry]) => ({ metric, ...entry })),
    ...(overlayPng ? { overlayPng } : {}),
    warnings: detailed.warnings,
  };
}
