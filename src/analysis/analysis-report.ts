import { describeScale, getProfile } from '../posture/index.ts';
import { bandFor, measurementNames, metricsForView, type View } from '../posture/profile.ts';
import { formatRange, formatValue } from '../posture/scoring.ts';
import type { ViewFeedback } from '../posture/feedback.ts';
import { overlayCaption, type OverlayContent } from '../overlay/overlay-content.ts';
import type { ReportMetric, ReportView } from '../report/pdf-report.ts';
import type { DetailedResult } from './view-analysis.ts';

/**
 * One view of the PDF report: the metric table rows (measured vs target) and the feedback, from the result; the
 * overlay's caption says which frame the picture is, since the table holds the aggregate.
 */
export function reportViewOf(
  detailed: DetailedResult,
  feedback: ViewFeedback,
  overlay: { png: Buffer; content: OverlayContent } | undefined,
): ReportView {
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
    detected_view: detailed.detected_view ?? 'none',
    overall_score: aggregate.overall_score ?? 0,
    metrics,
    feedback: Object.entries(feedback).map(([metric, entry]) => ({ metric, ...entry })),
    ...(overlay ? { overlayPng: overlay.png, overlayCaption: overlayCaption(overlay.content) } : {}),
    // The table shows cm values: the report says what they were scaled by.
    warnings: metricsInCm(metrics, profile, detailed.view as View) ? [describeScale(detailed.scale), ...detailed.warnings] : detailed.warnings,
  };
}

function metricsInCm(metrics: readonly ReportMetric[], profile: ReturnType<typeof getProfile>, view: View): boolean {
  return metricsForView(profile, view).some((m) => m.units === 'cm' && metrics.some((r) => r.name === m.name));
}
