// The results of a completed assessment: the overall score and summary, downloads, then per view the overlay
// picture and video, the angle chart, the measures against their normal ranges, and the feedback in words.
// Measures come from feedback.json (label, value, unit, normal range, score); a view without feedback (nobody
// found) falls back to posture_result's raw measurements.
import { ApiError, VIEWS, type AnalysisDetail, type ApiClient, type FeedbackReport, type MetricFeedback, type View, type ViewResult } from '../api.ts';
import { h, notice, formatDate } from '../dom.ts';
import { BAND_LABEL, formatValue, scoreBand, viewTitle } from './studio-format.ts';

export async function renderResults(api: ApiClient, detail: AnalysisDetail): Promise<HTMLElement> {
  const views = parseViews(detail.posture_result);
  let feedback: FeedbackReport = {};
  let feedbackError: string | null = null;
  if (detail.feedback_json_url) {
    try {
      feedback = await api.feedback(detail.feedback_json_url);
    } catch (error) {
      feedbackError = `The feedback could not be loaded: ${(error as ApiError).message}`;
    }
  }
  const viewNames = VIEWS.filter((view) => views[view]);
  return h('div', { class: 'results' },
    summaryCard(detail, viewNames),
    feedbackError ? notice('error', feedbackError) : null,
    ...viewNames.map((view) => viewSection(detail, view, views[view]!, feedback[view] ?? {})));
}

export function parseViews(postureResult: string | null): Partial<Record<View, ViewResult>> {
  if (!postureResult) return {};
  try {
    return JSON.parse(postureResult) as Partial<Record<View, ViewResult>>;
  } catch {
    return {};
  }
}

function summaryCard(detail: AnalysisDetail, views: View[]): HTMLElement {
  const { subject } = detail;
  const facts: [string, string | null][] = [
    ['Assessed on', formatDate(detail.created_at)],
    ['Age', subject.age !== null ? `${subject.age}` : null],
    ['Height', subject.height_cm !== null ? `${subject.height_cm} cm` : null],
    ['Profile', detail.profile],
    ['Model', detail.model_name],
    ['Notes', subject.notes],
  ];
  return h('section', { class: 'card summary', 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title' }, 'Summary'),
    h('div', { class: 'summary-row' },
      detail.overall_score !== null ? scoreDial(detail.overall_score) : null,
      h('div', {},
        h('p', { class: 'summary-text' }, detail.feedback ?? 'No summary.'),
        h('dl', { class: 'facts' }, ...facts.filter(([, v]) => v).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v!)])))),
    h('div', { class: 'downloads' },
      detail.report_url
        ? h('a', { class: 'button', href: detail.report_url, download: `${detail.session_id}_report.pdf`, id: 'download-report' }, 'Download the PDF report')
        : null,
      ...views.map((view) => h('a', {
        class: 'button secondary', href: `/api/analysis/${encodeURIComponent(detail.id)}/frames.csv?view=${view}`, download: `${detail.session_id}_${view}.csv`,
      }, `${viewTitle(view)}: frames CSV`))));
}

function scoreDial(score: number): HTMLElement {
  const band = scoreBand(score);
  return h('p', { class: `score-dial band-${band}` },
    h('span', { class: 'visually-hidden' }, 'Overall score: '),
    h('span', { class: 'score-value' }, String(score)),
    h('span', { class: 'score-label' }, '/ 100'),
    h('span', { class: `badge band-${band}` }, BAND_LABEL[band]));
}

function viewSection(detail: AnalysisDetail, view: View, result: ViewResult, feedback: Record<string, MetricFeedback>): HTMLElement {
  const title = viewTitle(view);
  const id = `view-${view}`;
  const metrics = Object.values(feedback);
  const overlay = detail.overlay_urls[view];
  const video = detail.overlay_video_urls[view];
  const chart = detail.chart_urls[view];
  const score = result.score?.overall_score;
  const detected = result.detected_view && result.detected_view !== view
    ? `Detected as ${result.detected_view}${result.view_confidence !== null ? ` (${Math.round(result.view_confidence * 100)} % of frames)` : ''}.`
    : null;
  return h('section', { class: 'card view-result', id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title, typeof score === 'number' ? h('span', { class: `badge band-${scoreBand(score)}` }, `${score} / 100`) : null),
    detected ? h('p', { class: 'hint' }, detected) : null,
    result.warnings?.length ? h('ul', { class: 'warnings' }, ...result.warnings.map((w) => h('li', {}, w))) : null,
    h('div', { class: 'media' },
      overlay ? h('figure', {},
        h('img', { src: overlay, alt: `${title}: the analysed frame with the skeleton and measured angles`, class: 'overlay-image', loading: 'lazy' }),
        h('figcaption', {}, 'Overlay')) : null,
      video ? h('figure', {},
        h('video', {
          controls: true, preload: 'metadata', playsinline: true, poster: overlay ?? null, class: 'overlay-video',
          'aria-label': `${title}: overlay video`,
        }, h('source', { src: video, type: 'video/mp4' })),
        h('figcaption', {}, 'Overlay video')) : null),
    chart ? h('figure', { class: 'chart' },
      h('img', { src: chart, alt: `${title}: angles over time with their normal ranges shaded`, loading: 'lazy' }),
      h('figcaption', {}, 'Angles over time')) : null,
    metrics.length > 0 ? measuresTable(title, metrics) : rawMeasures(title, result),
    metrics.length > 0 ? feedbackList(metrics) : null);
}

function measuresTable(title: string, metrics: MetricFeedback[]): HTMLElement {
  return h('table', { class: 'measures' },
    h('caption', {}, `${title}: measures`),
    h('thead', {}, h('tr', {}, ...['Measure', 'Value', 'Normal range', 'Score'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...metrics.map((m) => {
      const band = scoreBand(m.score_percent);
      return h('tr', { class: `band-${band}` },
        h('th', { scope: 'row' }, m.label),
        h('td', {}, formatValue(m.value, m.units)),
        h('td', {}, m.target),
        h('td', {}, h('span', { class: `badge band-${band}` }, `${Math.round(m.score_percent)} % · ${BAND_LABEL[band]}`)));
    })));
}

function rawMeasures(title: string, result: ViewResult): HTMLElement {
  const entries = Object.entries(result.measurements ?? {});
  if (entries.length === 0) return h('p', { class: 'hint' }, 'No measures for this view.');
  return h('table', { class: 'measures' },
    h('caption', {}, `${title}: measures`),
    h('tbody', {}, ...entries.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name.replaceAll('_', ' ')), h('td', {}, String(value))))));
}

function feedbackList(metrics: MetricFeedback[]): HTMLElement {
  return h('div', { class: 'feedback' },
    h('h3', {}, 'Feedback'),
    h('ul', {}, ...metrics.map((m) => h('li', { class: `band-${scoreBand(m.score_percent)}` },
      h('p', {}, m.critique ?? m.commendation ?? m.label),
      m.suggestions.length > 0 ? h('ul', { class: 'suggestions' }, ...m.suggestions.map((s) => h('li', {}, s))) : null))));
}
