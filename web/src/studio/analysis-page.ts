// One assessment: while it is analysed, its progress as the server pushes it; once completed, the results; if it
// failed, the reason and a way to try again. Reads GET /api/analysis/:id at start, once more when the socket is
// subscribed (whatever happened in between) and when the analysis ends: never on a timer.
import type { AnalysisDetail } from '../api.ts';
import { describeFailedAnalysis } from '../api-errors.ts';
import { h, notice } from '../dom.ts';
import type { PageContext } from '../main.ts';
import { watchAnalysis } from './analysis-socket.ts';
import { renderResults } from './results-view.ts';

const STATUS_TEXT = { pending: 'Waiting for a worker…', in_progress: 'Analysing' } as const;

export function mountAnalysisPage(page: HTMLElement, { api }: PageContext, id: string): () => void {
  const heading = h('h1', {}, 'Assessment');
  const progress = h('progress', { id: 'analysis-progress', max: 100, value: 0, 'aria-labelledby': 'analysis-progress-text' });
  const progressText = h('p', { id: 'analysis-progress-text', 'aria-live': 'polite' }, 'Loading…');
  const status = h('section', { class: 'card progress-box', 'aria-label': 'Analysis progress' }, progressText, progress);
  const body = h('div', { class: 'results' });
  page.append(heading, status, body);

  let stopWatching: (() => void) | null = null;
  let left = false;
  let watched = false;
  let shown: AnalysisDetail['status'] | null = null;

  const setProgress = (fraction: number, label: string) => {
    const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    progress.value = percent;
    progressText.textContent = `${label}: ${percent} %`;
  };

  const show = async (detail: AnalysisDetail) => {
    if (left) return;
    heading.textContent = detail.subject.name ? `Assessment of ${detail.subject.name}` : 'Assessment';
    if (detail.status === 'completed' || detail.status === 'failed') {
      stopWatching?.();
      stopWatching = null;
      if (shown === detail.status) return;
      shown = detail.status;
      if (detail.status === 'completed') {
        // The bar stays, full, when the user watched it fill; an assessment opened from history needs none.
        if (watched) setProgress(1, 'Analysis complete');
        else status.hidden = true;
        body.replaceChildren(notice('info', 'Loading the results…'));
        const results = await renderResults(api, detail);
        if (!left) body.replaceChildren(results);
      } else {
        status.hidden = true;
        body.replaceChildren(notice('error', describeFailedAnalysis(detail.error)), retryButton());
      }
      return;
    }
    shown = detail.status;
    status.hidden = false;
    watched = true;
    setProgress(detail.progress, STATUS_TEXT[detail.status]);
    body.replaceChildren();
    stopWatching ??= watchAnalysis(api, id, {
      onSubscribed: () => void refresh(),
      onUpdate: (update) => {
        if (update.status === 'completed' || update.status === 'failed') void refresh();
        else setProgress(update.progress ?? progress.value / 100, STATUS_TEXT[update.status]);
      },
      onLost: (reason) => {
        stopWatching = null;
        progressText.textContent = `Live progress was interrupted (${reason}). The analysis goes on on the server.`;
        body.replaceChildren(h('button', { type: 'button', onclick: () => void refresh() }, 'Check the status now'));
      },
    });
  };

  const refresh = async () => {
    try {
      await show(await api.analysis(id));
    } catch (error) {
      if (left) return;
      status.hidden = true;
      body.replaceChildren(notice('error', (error as Error).message), h('p', {}, h('a', { href: '#/studio/history' }, 'Back to the history')));
    }
  };

  const retryButton = () => h('button', {
    type: 'button',
    onclick: async (event: Event) => {
      (event.currentTarget as HTMLButtonElement).disabled = true;
      try {
        await api.request('POST', `/api/analysis/retry/${encodeURIComponent(id)}`, {});
        shown = null;
        await refresh();
      } catch (error) {
        body.replaceChildren(notice('error', (error as Error).message), retryButton());
      }
    },
  }, 'Analyse again');

  void refresh();
  return () => {
    left = true;
    stopWatching?.();
  };
}
