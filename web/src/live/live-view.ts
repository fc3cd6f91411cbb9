// The live page's markup and the pieces of it that are redrawn from API answers (readout, summary, history). No
// state and no calls here: live-page.ts decides, this module shows.
import type { LiveSessionItem, SessionSummary, StoredPostureEvent } from './live-api.ts';

export interface LiveView {
  root: HTMLElement;
  video: HTMLVideoElement;
  canvas: HTMLCanvasElement;
  stage: HTMLElement;
  status: HTMLElement;
  error: HTMLElement;
  buttons: Record<'calibrate' | 'start' | 'pause' | 'end' | 'retry', HTMLButtonElement>;
  calibration: HTMLElement;
  poseRate: HTMLElement;
  sent: HTMLElement;
}

const html = String.raw;

export function createLiveView(): LiveView {
  const root = document.createElement('section');
  root.className = 'live-page';
  root.setAttribute('aria-labelledby', 'live-title');
  root.innerHTML = html`
    <h1 id="live-title">Live posture</h1>
    <p class="live-intro">The pose model runs in this browser. Your camera image never leaves this device: only the
      positions of 17 body points are sent to Postura, which works out your spine angle.</p>
    <div class="live-stage">
      <video muted playsinline aria-label="Camera preview, mirrored"></video>
      <canvas aria-hidden="true"></canvas>
    </div>
    <p class="live-status" role="status" aria-live="polite"></p>
    <p class="live-error" role="alert"></p>
    <div class="live-controls" role="group" aria-label="Live session">
      <button type="button" data-action="calibrate">Calibrate: stand straight for 3 s</button>
      <button type="button" data-action="start">Start session</button>
      <button type="button" data-action="pause">Pause</button>
      <button type="button" data-action="end">End session</button>
      <button type="button" data-action="retry" hidden>Try again</button>
    </div>
    <dl class="live-readout">
      <div><dt>Spine angle</dt><dd data-field="angle">–</dd></div>
      <div><dt>Neck tilt</dt><dd data-field="neck">–</dd></div>
      <div><dt>Posture</dt><dd data-field="label">–</dd></div>
      <div><dt>Calibration</dt><dd data-field="calibration">–</dd></div>
      <div><dt>Pose model</dt><dd data-field="pose-rate">–</dd></div>
      <div><dt>Events sent</dt><dd data-field="sent">0</dd></div>
    </dl>
    <section class="live-summary" aria-labelledby="live-summary-title" hidden>
      <h2 id="live-summary-title" tabindex="-1">Session summary</h2>
      <dl></dl>
    </section>
    <section class="live-history" aria-labelledby="live-history-title">
      <h2 id="live-history-title">Your live sessions</h2>
      <p data-field="history-empty">No live sessions yet.</p>
      <div class="live-table-wrap" tabindex="0" role="region" aria-labelledby="live-history-title">
        <table hidden>
          <thead><tr><th scope="col">Started</th><th scope="col">Length</th><th scope="col">Good</th>
            <th scope="col">Mild</th><th scope="col">Bad</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>`;
  const one = <T extends Element>(selector: string) => root.querySelector<T & HTMLElement>(selector)!;
  const button = (action: string) => one<HTMLButtonElement>(`button[data-action="${action}"]`);
  return {
    root,
    video: one<HTMLVideoElement>('video'),
    canvas: one<HTMLCanvasElement>('canvas'),
    stage: one('.live-stage'),
    status: one('.live-status'),
    error: one('.live-error'),
    buttons: { calibrate: button('calibrate'), start: button('start'), pause: button('pause'), end: button('end'), retry: button('retry') },
    calibration: one('[data-field="calibration"]'),
    poseRate: one('[data-field="pose-rate"]'),
    sent: one('[data-field="sent"]'),
  };
}

const LABEL_TEXT: Record<string, string> = { Good: 'Good', Mild: 'Mild: straighten up a little', Bad: 'Bad: straighten up' };

/** The server's verdict on the latest event; a null angle is a pose the server found too uncertain. */
export function showEvent(view: LiveView, event: StoredPostureEvent | null): void {
  const field = (name: string) => view.root.querySelector<HTMLElement>(`[data-field="${name}"]`)!;
  field('angle').textContent = event === null ? '–' : event.angle === null ? 'not clear: step into view' : `${event.angle.toFixed(1)}°`;
  field('neck').textContent = event === null || event.neck_tilt === null ? '–' : `${event.neck_tilt.toFixed(1)}°`;
  const label = field('label');
  label.textContent = event?.label ? (LABEL_TEXT[event.label] ?? event.label) : '–';
  label.dataset.label = event?.label ?? '';
}

export function showSummary(view: LiveView, summary: SessionSummary | null): void {
  const section = view.root.querySelector<HTMLElement>('.live-summary')!;
  section.hidden = summary === null;
  if (!summary) return;
  const part = (seconds: number) => `${formatDuration(seconds)} (${percent(seconds, summary.total_seconds)})`;
  const rows: [string, string][] = [
    ['Length', formatDuration(summary.total_seconds)],
    ['Good', part(summary.good_seconds)],
    ['Mild', part(summary.mild_seconds)],
    ['Bad', part(summary.bad_seconds)],
    ['Poses measured', String(summary.event_count)],
    ['Average spine angle', summary.average_angle === null ? 'none measured' : `${summary.average_angle.toFixed(1)}°`],
  ];
  section.querySelector('dl')!.replaceChildren(...rows.map(([term, value]) => definition(term, value)));
}

export function showHistory(view: LiveView, sessions: readonly LiveSessionItem[]): void {
  const table = view.root.querySelector<HTMLTableElement>('.live-history table')!;
  view.root.querySelector<HTMLElement>('[data-field="history-empty"]')!.hidden = sessions.length > 0;
  table.hidden = sessions.length === 0;
  table.tBodies[0]!.replaceChildren(...sessions.map((s) => {
    const row = document.createElement('tr');
    const total = s.total_seconds ?? 0;
    const cells = s.ended
      ? [formatDuration(total), percent(s.good_seconds ?? 0, total), percent(s.mild_seconds ?? 0, total), percent(s.bad_seconds ?? 0, total)]
      : ['not ended', '–', '–', '–'];
    const started = document.createElement('th');
    started.scope = 'row';
    started.textContent = new Date(s.created_at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    row.append(started, ...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    return row;
  }));
}

function definition(term: string, value: string): HTMLElement {
  const wrap = document.createElement('div');
  wrap.append(Object.assign(document.createElement('dt'), { textContent: term }), Object.assign(document.createElement('dd'), { textContent: value }));
  return wrap;
}

function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  return `${minutes} min ${String(whole % 60).padStart(2, '0')} s`;
}

function percent(part: number, total: number): string {
  return total > 0 ? `${Math.round((100 * part) / total)} %` : '–';
}
