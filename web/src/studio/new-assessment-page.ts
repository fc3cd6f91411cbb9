// A new assessment: who is assessed, how to analyse, and one to four views, each a photo or a video from a file
// or the camera. The upload reports its bytes as they leave (XMLHttpRequest), then the analysis page takes over.
import { VIEWS, type View } from '../api.ts';
import { field, h, notice } from '../dom.ts';
import { describeFileFailure } from '../api-errors.ts';
import type { PageContext } from '../main.ts';
import { navigate } from '../router.ts';
import { flash } from '../shell.ts';
import { formatBytes, newSessionId } from './studio-format.ts';

const VIEW_HINTS: Record<View, string> = {
  front: 'Facing the camera, whole body in the picture.',
  left: 'Left side towards the camera.',
  right: 'Right side towards the camera.',
  back: 'Back towards the camera.',
};
const PROFILES = [
  { value: 'stance', label: 'Stance (studio measures)' },
  { value: 'upright', label: 'Upright (everyday posture)' },
];
const MODELS = [
  { value: 'cx', label: 'cx: MoveNet Thunder (default)' },
  { value: 'gy', label: 'gy: BlazePose full' },
];

export function mountNewAssessmentPage(page: HTMLElement, { api }: PageContext): () => void {
  const name = h('input', { name: 'subject_name', required: true, maxlength: 100, autocomplete: 'off' });
  const height = h('input', { name: 'height_cm', type: 'number', min: 50, max: 250, step: 1, required: true, inputmode: 'numeric' });
  const age = h('input', { name: 'subject_age', type: 'number', min: 1, max: 120, step: 1, inputmode: 'numeric' });
  const notes = h('textarea', { name: 'subject_notes', maxlength: 1000, rows: 2 });
  const profile = h('select', { name: 'profile' }, ...PROFILES.map((p) => h('option', { value: p.value }, p.label)));
  const model = h('select', { name: 'model' }, ...MODELS.map((m) => h('option', { value: m.value }, m.label)));
  const views = VIEWS.map(viewPicker);
  const messages = h('div', { class: 'messages' });
  const progress = h('progress', { id: 'upload-progress', max: 100, value: 0, 'aria-labelledby': 'upload-progress-text' });
  const progressText = h('p', { id: 'upload-progress-text', 'aria-live': 'polite' });
  const progressBox = h('div', { class: 'progress-box', hidden: true }, progressText, progress);
  const submit = h('button', { type: 'submit' }, 'Upload and analyse');

  const form = h('form', { class: 'assessment-form' },
    h('fieldset', { class: 'card' }, h('legend', {}, 'Person assessed'),
      h('div', { class: 'grid-2' },
        field('Name', name),
        field('Height (cm)', height, 'Scales every distance in cm.'),
        field('Age (optional)', age),
      ),
      field('Notes (optional)', notes)),
    h('fieldset', { class: 'card' }, h('legend', {}, 'Analysis'),
      h('div', { class: 'grid-2' }, field('Profile', profile), field('Pose model', model))),
    h('fieldset', { class: 'card' }, h('legend', {}, 'Views'),
      h('p', { class: 'hint' }, 'A photo or a video for one to four views, from a file or taken with the camera.'),
      h('div', { class: 'views' }, ...views.map((v) => v.element))),
    messages, progressBox, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    messages.replaceChildren();
    const chosen = views.filter((v) => v.file() !== null);
    if (chosen.length === 0) {
      messages.replaceChildren(notice('error', 'Choose a photo or a video for at least one view.'));
      views[0]!.focus();
      return;
    }
    const data = new FormData();
    data.set('session_id', newSessionId());
    data.set('model', model.value);
    data.set('profile', profile.value);
    data.set('subject_name', name.value.trim());
    data.set('height_cm', height.value);
    if (age.value) data.set('subject_age', age.value);
    if (notes.value.trim()) data.set('subject_notes', notes.value.trim());
    for (const view of chosen) data.set(view.view, view.file()!);

    submit.disabled = true;
    progressBox.hidden = false;
    progressText.textContent = 'Uploading…';
    try {
      const result = await api.upload(data, (sent, total) => {
        const percent = Math.round((100 * sent) / total);
        progress.value = percent;
        progressText.textContent = `Uploading: ${percent} % (${formatBytes(sent)} of ${formatBytes(total)})`;
      });
      if (result.failures.length > 0) {
        flash('error', `Some files were not uploaded, the others are being analysed. ${result.failures.map(describeFileFailure).join('. ')}`);
      }
      navigate(`/studio/analyses/${result.analysis_id}`);
    } catch (error) {
      progressBox.hidden = true;
      messages.replaceChildren(notice('error', (error as Error).message));
      submit.disabled = false;
    }
  });

  page.append(h('h1', {}, 'New assessment'), form);
  return () => views.forEach((v) => v.clear());
}

interface ViewPicker {
  view: View;
  element: HTMLElement;
  file(): File | null;
  focus(): void;
  clear(): void;
}

/** One view: a file input, a camera input (capture), and what was chosen with a preview. */
function viewPicker(view: View): ViewPicker {
  const title = `${view[0]!.toUpperCase()}${view.slice(1)} view`;
  const fromFiles = h('input', { type: 'file', id: `view-${view}-file`, name: view, accept: 'image/*,video/*', class: 'visually-hidden' });
  const fromCamera = h('input', {
    type: 'file', id: `view-${view}-camera`, accept: 'image/*,video/*', capture: 'environment', class: 'visually-hidden',
  });
  const chosen = h('div', { class: 'chosen', 'aria-live': 'polite' }, h('p', { class: 'hint' }, 'Nothing chosen'));
  let file: File | null = null;
  let previewUrl: string | null = null;

  const show = (picked: File | null) => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    file = picked;
    if (!picked) {
      chosen.replaceChildren(h('p', { class: 'hint' }, 'Nothing chosen'));
      fromFiles.value = '';
      fromCamera.value = '';
      return;
    }
    previewUrl = URL.createObjectURL(picked);
    const preview = picked.type.startsWith('video/')
      ? h('video', { src: `${previewUrl}#t=0.1`, muted: true, playsinline: true, preload: 'metadata', 'aria-hidden': 'true', tabindex: '-1' })
      : h('img', { src: previewUrl, alt: '' });
    chosen.replaceChildren(
      h('div', { class: 'preview' }, preview),
      h('p', { class: 'file-name' }, `${picked.name} (${formatBytes(picked.size)})`),
      h('button', { type: 'button', class: 'link', onclick: () => show(null), 'aria-label': `Remove the ${view} view file` }, 'Remove'),
    );
  };
  fromFiles.addEventListener('change', () => show(fromFiles.files?.[0] ?? null));
  fromCamera.addEventListener('change', () => show(fromCamera.files?.[0] ?? null));

  const element = h('div', { class: 'view-picker' },
    h('h3', {}, title),
    h('p', { class: 'hint' }, VIEW_HINTS[view]),
    // Each input sits inside its label, styled as a button: the label's outline shows where the keyboard focus is.
    h('div', { class: 'view-actions' },
      h('label', { class: 'button secondary' }, 'Choose file', h('span', { class: 'visually-hidden' }, ` for the ${title.toLowerCase()}`), fromFiles),
      h('label', { class: 'button secondary' }, 'Camera', h('span', { class: 'visually-hidden' }, ` for the ${title.toLowerCase()}`), fromCamera)),
    chosen);
  return { view, element, file: () => file, focus: () => fromFiles.focus(), clear: () => show(null) };
}
