// Two assessments side by side: their scores, and every measure of the views both have with its change.
import type { AnalysisDetail, ApiClient, FeedbackReport } from '../api.ts';
import { formatDate, h, notice } from '../dom.ts';
import type { PageContext } from '../main.ts';
import { compareFeedback, type ComparedMeasure } from './compare-model.ts';
import { BAND_LABEL, formatValue, scoreBand, viewTitle } from './studio-format.ts';

export function mountComparePage(page: HTMLElement, { api }: PageContext, firstId: string, secondId: string): () => void {
  let left = false;
  const content = h('div', {}, h('p', { role: 'status' }, 'Loading both assessments…'));
  page.append(h('h1', {}, 'Compare two assessments'), content);
  Promise.all([loadWithFeedback(api, firstId), loadWithFeedback(api, secondId)]).then(([a, b]) => {
    if (left) return;
    const [before, after] = a.detail.created_at <= b.detail.created_at ? [a, b] : [b, a];
    const views = compareFeedback(before.feedback, after.feedback);
    content.replaceChildren(
      h('div', { class: 'compare-heads' }, head('Earlier', before.detail), head('Later', after.detail)),
      views.length === 0 ? notice('info', 'These two assessments have no view in common to compare.') : '',
      ...views.map(({ view, measures }) => h('section', { class: 'card' },
        h('h2', {}, viewTitle(view)),
        h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': `${viewTitle(view)} comparison` },
          h('table', { class: 'measures compare' },
            h('caption', {}, `${viewTitle(view)}: earlier and later measures`),
            h('thead', {}, h('tr', {}, ...['Measure', 'Normal range', 'Earlier', 'Later', 'Change'].map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, ...measures.map(row)))))));
  }, (error: Error) => {
    if (!left) content.replaceChildren(notice('error', error.message));
  });
  return () => {
    left = true;
  };
}

async function loadWithFeedback(api: ApiClient, id: string): Promise<{ detail: AnalysisDetail; feedback: FeedbackReport }> {
  const detail = await api.analysis(id);
  return { detail, feedback: detail.feedback_json_url ? await api.feedback(detail.feedback_json_url) : {} };
}

function head(label: string, detail: AnalysisDetail): HTMLElement {
  const score = detail.overall_score;
  return h('section', { class: 'card compare-head' },
    h('h2', {}, `${label}: `, h('a', { href: `#/studio/analyses/${detail.id}` }, formatDate(detail.created_at))),
    h('p', {}, detail.subject.name ?? 'No name given'),
    score !== null ? h('p', {}, h('span', { class: `badge band-${scoreBand(score)}` }, `${score} / 100 · ${BAND_LABEL[scoreBand(score)]}`)) : null);
}

function row(m: ComparedMeasure): HTMLElement {
  const cell = (entry: ComparedMeasure['before']) => h('td', {}, entry
    ? h('span', { class: `badge band-${scoreBand(entry.score_percent)}` }, formatValue(entry.value, entry.units),
      h('span', { class: 'visually-hidden' }, ` (${BAND_LABEL[scoreBand(entry.score_percent)]})`))
    : '—');
  const change = m.change === null ? '—'
    : `${m.change > 0 ? '+' : ''}${formatValue(m.change, m.units)}${m.scoreChange ? ` (score ${m.scoreChange > 0 ? '+' : ''}${m.scoreChange} %)` : ''}`;
  return h('tr', {}, h('th', { scope: 'row' }, m.label), h('td', {}, m.target), cell(m.before), cell(m.after), h('td', {}, change));
}
