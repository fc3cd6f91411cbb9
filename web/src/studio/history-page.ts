// The history: every assessment of this account, grouped by the person assessed with their score trend; pick two
// to compare them, or delete one after a confirmation. The list does not carry the person's name, so each
// assessment's detail is read once (a few at a time) and kept for the rest of the visit: names never change.
import type { AnalysisSummary, ApiClient } from '../api.ts';
import { formatDate, h, notice } from '../dom.ts';
import type { PageContext } from '../main.ts';
import { navigate } from '../router.ts';
import { groupBySubject, lastChange, type HistoryEntry, type PersonHistory } from './history-model.ts';
import { sparkline } from './sparkline.ts';
import { BAND_LABEL, scoreBand } from './studio-format.ts';

const subjectNames = new Map<string, string | null>();
const DETAIL_READS_AT_ONCE = 4;

export function mountHistoryPage(page: HTMLElement, { api }: PageContext): () => void {
  let left = false;
  const messages = h('div', { class: 'messages' });
  const content = h('div', {}, h('p', { role: 'status' }, 'Loading the history…'));
  const selected = new Set<string>();
  const compareButton = h('button', { type: 'button', disabled: true, id: 'compare-selected' }, 'Compare the two selected');
  const compareHint = h('p', { class: 'hint', 'aria-live': 'polite' }, 'Select two assessments to compare them.');
  const dialog = deleteDialog();
  let entries: HistoryEntry[] = [];

  compareButton.addEventListener('click', () => {
    const [a, b] = entries.filter((e) => selected.has(e.id)).sort((x, y) => x.createdAt.localeCompare(y.createdAt));
    if (a && b) navigate(`/studio/compare/${a.id}/${b.id}`);
  });

  const updateSelection = () => {
    compareButton.disabled = selected.size !== 2;
    compareHint.textContent = selected.size === 2 ? 'Two selected.' : `Select two assessments to compare them (${selected.size} selected).`;
  };

  const render = () => {
    if (entries.length === 0) {
      content.replaceChildren(h('p', {}, 'No assessments yet. ', h('a', { href: '#/studio/new' }, 'Start a new assessment'), '.'));
      return;
    }
    content.replaceChildren(
      h('div', { class: 'compare-bar' }, compareHint, compareButton),
      ...groupBySubject(entries).map(personSection));
  };

  const personSection = (person: PersonHistory) => {
    const name = person.name ?? 'No name given';
    const change = lastChange(person.trend);
    return h('section', { class: 'card person' },
      h('div', { class: 'person-head' },
        h('h2', {}, name),
        h('p', { class: 'hint' }, `${person.entries.length} assessment${person.entries.length === 1 ? '' : 's'}`),
        person.trend.length > 0 ? sparkline(person.trend, `Score trend of ${name}, oldest first`) : null,
        change !== null ? h('p', { class: 'hint' }, `Last change: ${change > 0 ? '+' : ''}${change} points`) : null),
      h('ul', { class: 'entries' }, ...person.entries.map(entryRow)));
  };

  const entryRow = (entry: HistoryEntry) => {
    const when = formatDate(entry.createdAt);
    const checkbox = h('input', { type: 'checkbox', id: `compare-${entry.id}`, disabled: entry.status !== 'completed' });
    checkbox.checked = selected.has(entry.id);
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) selected.add(entry.id);
      else selected.delete(entry.id);
      updateSelection();
    });
    const score = entry.overallScore;
    return h('li', { class: 'entry', 'data-analysis-id': entry.id },
      h('div', { class: 'entry-main' },
        h('a', { href: `#/studio/analyses/${entry.id}` }, when),
        score !== null
          ? h('span', { class: `badge band-${scoreBand(score)}` }, `${score} / 100 · ${BAND_LABEL[scoreBand(score)]}`)
          : h('span', { class: 'badge' }, entry.status.replace('_', ' '))),
      h('div', { class: 'entry-actions' },
        h('label', { for: checkbox.id, class: 'check' }, checkbox, 'Compare', h('span', { class: 'visually-hidden' }, ` the assessment of ${when}`)),
        h('button', {
          type: 'button', class: 'secondary danger',
          onclick: () => dialog.ask(`the assessment of ${when}`, () => remove(entry.id)),
        }, 'Delete', h('span', { class: 'visually-hidden' }, ` the assessment of ${when}`))));
  };

  const remove = async (id: string) => {
    try {
      await api.deleteAnalysis(id);
      entries = entries.filter((e) => e.id !== id);
      selected.delete(id);
      subjectNames.delete(id);
      updateSelection();
      render();
      messages.replaceChildren(notice('success', 'The assessment was deleted.'));
    } catch (error) {
      messages.replaceChildren(notice('error', (error as Error).message));
    }
  };

  page.append(h('h1', {}, 'History'), messages, content, dialog.element);
  load(api).then((loaded) => {
    if (left) return;
    entries = loaded;
    render();
  }, (error: Error) => {
    if (!left) content.replaceChildren(notice('error', error.message));
  });
  return () => {
    left = true;
  };
}

async function load(api: ApiClient): Promise<HistoryEntry[]> {
  const list = await api.listAnalyses();
  const missing = list.filter((a) => !subjectNames.has(a.id));
  for (let i = 0; i < missing.length; i += DETAIL_READS_AT_ONCE) {
    await Promise.all(missing.slice(i, i + DETAIL_READS_AT_ONCE).map(async (a) => {
      subjectNames.set(a.id, (await api.analysis(a.id)).subject.name);
    }));
  }
  return list.map((a: AnalysisSummary) => ({
    id: a.id, subjectName: subjectNames.get(a.id) ?? null, createdAt: a.created_at, status: a.status, overallScore: a.overall_score,
  }));
}

/** One <dialog> for every delete: modal, so focus stays in it and Escape cancels. */
function deleteDialog(): { element: HTMLDialogElement; ask(what: string, onConfirm: () => void): void } {
  const text = h('p', { id: 'delete-dialog-text' });
  const confirm = h('button', { type: 'submit', value: 'delete', class: 'danger' }, 'Delete');
  const element = h('dialog', { 'aria-labelledby': 'delete-dialog-title', 'aria-describedby': 'delete-dialog-text', class: 'dialog' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'delete-dialog-title' }, 'Delete this assessment?'),
      text,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'), confirm)));
  let pending: (() => void) | null = null;
  element.addEventListener('close', () => {
    if (element.returnValue === 'delete') pending?.();
    pending = null;
  });
  return {
    element,
    ask(what, onConfirm) {
      text.textContent = `This deletes ${what}: its photos and videos, its results and its report. It cannot be undone.`;
      pending = onConfirm;
      element.returnValue = '';
      element.showModal();
    },
  };
}
