import { assertValidKey, ObjectKeyError } from './object-store.ts';

/**
 * The key layout of SPEC section 2, in one place (see docs/storage.md). Each part is one path segment: a part that
 * contains `/` or is `.`/`..` is refused here, before any key reaches a store.
 */
export const objectKeys = {
  /** `videos/{user_id}/{session_id}/` : every upload of a media session. */
  sessionMediaPrefix: (userId: string, sessionId: string) => `videos/${segments(userId, sessionId).join('/')}/`,
  /**
   * `videos/{user_id}/{session_id}/{model}_{view}{ext}`, `ext` with its dot (`.mp4`) or empty. A file of unknown view
   * sent in a multipart upload's `file` field is named after the client's file instead: `name` is then that file's
   * name, already reduced to a safe base name.
   */
  media: (userId: string, sessionId: string, model: string, name: string, ext: string) =>
    key(`videos/${segments(userId, sessionId).join('/')}/${segment(`${model}_${name}${ext}`)}`),
  /**
   * `uploads-pending/{upload_id}/` : the files of one multipart upload while its body is still arriving; at its end
   * they move under `videos/` or are deleted. Anything still here long after is a crashed process's leftover. The id
   * starts with the upload's start time in ms (`{ms}-{uuid}`), so leftovers are found by their key alone.
   */
  pendingUploadsRoot: 'uploads-pending/',
  pendingUploadPrefix: (uploadId: string) => `uploads-pending/${segment(uploadId)}/`,
  pendingUpload: (uploadId: string, name: string) => key(`${objectKeys.pendingUploadPrefix(uploadId)}${segment(name)}`),
  /** `analysis-data/{user_id}/{session_id}/` : every result of an analysis. */
  resultsPrefix: (userId: string, sessionId: string) => `analysis-data/${segments(userId, sessionId).join('/')}/`,
  detailed: (userId: string, sessionId: string, view: string) =>
    key(`${objectKeys.resultsPrefix(userId, sessionId)}${segment(`detailed_${view}.json`)}`),
  feedback: (userId: string, sessionId: string) => key(`${objectKeys.resultsPrefix(userId, sessionId)}feedback.json`),
  report: (userId: string, sessionId: string) =>
    key(`${objectKeys.resultsPrefix(userId, sessionId)}${segment(`${sessionId}_report.pdf`)}`),
  overlay: (userId: string, sessionId: string, view: string) =>
    key(`${objectKeys.resultsPrefix(userId, sessionId)}${segment(`overlay_${view}.png`)}`),
  /** The overlay video of a video view: its analysed frames with the skeleton and angles, H.264 MP4. */
  overlayVideo: (userId: string, sessionId: string, view: string) =>
    key(`${objectKeys.resultsPrefix(userId, sessionId)}${segment(`overlay_${view}.mp4`)}`),
  /** The angles-over-time chart of a video view, SVG. */
  angleChart: (userId: string, sessionId: string, view: string) =>
    key(`${objectKeys.resultsPrefix(userId, sessionId)}${segment(`angles_${view}.svg`)}`),
};

function segment(value: string): string {
  if (value === '' || value === '.' || value === '..' || value.includes('/')) {
    throw new ObjectKeyError(`"${value}" is not a single path segment`);
  }
  return value;
}

function segments(...values: string[]): string[] {
  return values.map(segment);
}

function key(value: string): string {
  assertValidKey(value);
  return value;
}
