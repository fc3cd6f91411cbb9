import type { Analysis } from './analyses.repository.ts';

/** Pure: weekly trends and insights over a user's completed analyses (GET /api/analysis/summary). */
export interface Insight {
  type: 'critical' | 'warning' | 'good' | 'info';
  title: string;
  content: string;
}

export interface WeeklySummary {
  weeks: Array<{ week_start: string; analyses: number; average_overall_score: number | null }>;
  metrics: Record<string, { current_week: number | null; previous_weeks: Array<number | null>; trend: number | null }>;
  worst_metric: { name: string; average_percent: number } | null;
  best_metric: { name: string; average_percent: number } | null;
  insights: Insight[];
}

const DAY_MS = 24 * 3600 * 1000;

/** Monday 00:00 UTC of the week holding `date`. */
export function weekStart(date: Date): Date {
  const day = (date.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day));
}

type ViewResult = { raw_scores_percent?: Record<string, number> };

function metricPercents(analysis: Analysis): Record<string, number[]> {
  const views = (analysis.result?.views ?? {}) as Record<string, ViewResult>;
  const out: Record<string, number[]> = {};
  for (const view of Object.values(views)) {
    for (const [metric, percent] of Object.entries(view.raw_scores_percent ?? {})) (out[metric] ??= []).push(percent);
  }
  return out;
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

/** `weeks` weeks ending with the current one; analyses are those completed in that span, oldest first or not. */
export function summariseWeeks(analyses: readonly Analysis[], now: Date, weeks = 4): WeeklySummary {
  const current = weekStart(now);
  const starts = Array.from({ length: weeks }, (_, i) => new Date(current.getTime() - (weeks - 1 - i) * 7 * DAY_MS));
  const completed = analyses.filter((a) => a.status === 'completed');
  const weekOf = (a: Analysis) => Math.floor((weekStart(a.createdAt).getTime() - starts[0]!.getTime()) / (7 * DAY_MS));

  const perWeekScores: number[][] = starts.map(() => []);
  const perWeekMetrics: Array<Record<string, number[]>> = starts.map(() => ({}));
  for (const analysis of completed) {
    const w = weekOf(analysis);
    if (w < 0 || w >= weeks) continue;
    if (analysis.overallScore !== null) perWeekScores[w]!.push(analysis.overallScore);
    for (const [metric, values] of Object.entries(metricPercents(analysis))) (perWeekMetrics[w]![metric] ??= []).push(...values);
  }

  const metricNames = [...new Set(perWeekMetrics.flatMap((m) => Object.keys(m)))].sort();
  const metrics: WeeklySummary['metrics'] = {};
  for (const name of metricNames) {
    const byWeek = perWeekMetrics.map((m) => round1(mean(m[name] ?? [])));
    const currentWeek = byWeek.at(-1) ?? null;
    const earlier = byWeek.slice(0, -1).filter((v): v is number => v !== null);
    const previous = earlier.length ? mean(earlier) : null;
    metrics[name] = {
      current_week: currentWeek,
      previous_weeks: byWeek.slice(0, -1),
      trend: currentWeek !== null && previous !== null ? round1(currentWeek - previous) : null,
    };
  }

  const overall = metricNames
    .map((name) => ({ name, average_percent: round1(mean(perWeekMetrics.flatMap((m) => m[name] ?? [])))! }))
    .sort((a, b) => a.average_percent - b.average_percent);
  const worst = overall[0] ?? null;
  const best = overall.at(-1) ?? null;

  const insights: Insight[] = [];
  const thisWeek = perWeekScores.at(-1) ?? [];
  if (completed.length === 0) {
    insights.push({ type: 'info', title: 'No analyses yet', content: 'Upload a photo or video to get your first posture analysis.' });
  } else if (thisWeek.length === 0) {
    insights.push({ type: 'info', title: 'No analysis this week', content: 'A short check each week makes trends visible.' });
  }
  if (worst && worst.average_percent < 50) {
    insights.push({ type: 'critical', title: `Focus on ${label(worst.name)}`,
      content: `${label(worst.name)} averages ${worst.average_percent}% over the last ${weeks} weeks: the feedback of your latest analysis lists exercises for it.` });
  } else if (worst && worst.average_percent < 80) {
    insights.push({ type: 'warning', title: `${label(worst.name)} can improve`,
      content: `${label(worst.name)} averages ${worst.average_percent}%, your weakest metric.` });
  }
  for (const [name, m] of Object.entries(metrics)) {
    if (m.trend !== null && m.trend <= -10) {
      insights.push({ type: 'warning', title: `${label(name)} is slipping`, content: `${label(name)} is ${Math.abs(m.trend)} points below your earlier weeks.` });
    } else if (m.trend !== null && m.trend >= 10) {
      insights.push({ type: 'good', title: `${label(name)} is improving`, content: `${label(name)} is up ${m.trend} points on your earlier weeks.` });
    }
  }
  if (best && best.average_percent >= 80) {
    insights.push({ type: 'good', title: `Strong ${label(best.name)}`, content: `${label(best.name)} averages ${best.average_percent}%.` });
  }

  return {
    weeks: starts.map((start, i) => ({
      week_start: start.toISOString().slice(0, 10),
      analyses: perWeekScores[i]!.length,
      average_overall_score: round1(mean(perWeekScores[i]!)),
    })),
    metrics,
    worst_metric: worst,
    best_metric: best,
    insights,
  };
}

function label(metric: string): string {
  const words = metric.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
