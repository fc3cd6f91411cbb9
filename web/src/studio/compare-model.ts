// Two assessments side by side: for each view both have, every measure either has, with the change from the
// earlier to the later one. Pure: fed with each assessment's feedback.json.
import type { FeedbackReport, MetricFeedback, View } from '../api-types.ts';

export interface ComparedMeasure {
  metric: string;
  label: string;
  units: string;
  target: string;
  before: MetricFeedback | null;
  after: MetricFeedback | null;
  /** after.value − before.value, when both exist. */
  change: number | null;
  /** after.score_percent − before.score_percent: positive means closer to the normal range. */
  scoreChange: number | null;
}

export interface ComparedView {
  view: View;
  measures: ComparedMeasure[];
}

export function compareFeedback(before: FeedbackReport, after: FeedbackReport): ComparedView[] {
  const views = (Object.keys(after) as View[]).filter((view) => view in before);
  return views.map((view) => {
    const a = before[view] ?? {};
    const b = after[view] ?? {};
    const metrics = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return {
      view,
      measures: metrics.map((metric) => {
        const x = a[metric] ?? null;
        const y = b[metric] ?? null;
        const any = (y ?? x)!;
        return {
          metric, label: any.label, units: any.units, target: any.target, before: x, after: y,
          change: x && y ? round1(y.value - x.value) : null,
          scoreChange: x && y ? round1(y.score_percent - x.score_percent) : null,
        };
      }),
    };
  });
}

const round1 = (v: number) => Math.round(v * 10) / 10;
