// What a user is told when a decoder refuses a file. libvips and ffmpeg write for developers: their messages carry
// temporary paths, heap addresses (`[mov,mp4 @ 0x55d5c2a0]`) and library names. A user reads a sentence chosen
// here from a fixed list; the decoder's own words stay on the error (`cause`) for the server log.

/** Known decoder complaints, each with the reason a user can act on; anything else gets the bare sentence. */
const IMAGE_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/unsupported image format/i, 'not an image format that can be read'],
  [/premature end|truncated|end of (file|stream)|not enough data/i, 'the file is cut short'],
];

const VIDEO_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/moov atom not found|end of file|truncat/i, 'the file is incomplete'],
  [/no video stream/i, 'no video stream found'],
  [/invalid data found|header parsing failed|could not find codec/i, 'not a video format that can be read'],
];

function withReason(sentence: string, reasons: ReadonlyArray<readonly [RegExp, string]>, detail: string): string {
  const reason = reasons.find(([pattern]) => pattern.test(detail))?.[1];
  return reason ? `${sentence} (${reason})` : sentence;
}

export function imageTooLarge(maxPixels: number): string {
  const megapixels = Math.round(maxPixels / 100_000) / 10;
  return `Image is too large: at most ${megapixels} megapixels are accepted; scale it down and upload again`;
}

export function videoTooLarge(width: number, height: number, maxSide: number): string {
  return `Video frames are too large (${width}×${height} px): at most ${maxSide} px on a side are accepted`;
}

/** The sentence for a libvips (sharp) failure, `detail` being its message. */
export function imageProblem(detail: string, maxPixels: number): string {
  if (/exceeds pixel limit/i.test(detail)) return imageTooLarge(maxPixels);
  return withReason('Image is corrupt or unreadable', IMAGE_REASONS, detail);
}

/** The sentence for an ffprobe/ffmpeg failure, `detail` being its stderr. */
export function videoProblem(detail: string): string {
  return withReason('Video is corrupt or unreadable', VIDEO_REASONS, detail);
}

/** A refusal whose message is fit for the user; `detail` keeps the decoder's words for the log. */
export class MediaProblemError extends Error {
  override readonly name = 'MediaProblemError';
  constructor(message: string, readonly detail: string) {
    super(message);
  }
}
