// The overlay video: every analysed frame of a video view drawn as the still overlay draws its frame (skeleton,
// marks labelled with that frame's own values) under a caption naming the frame, encoded as an H.264 MP4 at the
// source rate divided by the frame step, so it plays at real speed with one picture per analysed frame. Frames
// stream decoder → sharp → encoder one at a time: memory stays flat however long the video. Nothing depends on
// timing, so the same input always gives the same frames.
import sharp from 'sharp';
import type { DetailedResult } from '../analysis/view-analysis.ts';
import { decodedSize, decodeVideoFrames, type VideoFrame } from '../pose/video-decoder.ts';
import { encodeVideo } from '../pose/video-encoder.ts';
import { bodyBox, drawBody, drawingSizes, scaleBody } from './overlay-body.ts';
import { overlayFrameContent, type OverlayFrameContent } from './overlay-content.ts';
import { LabelLayer, textWidth } from './overlay-labels.ts';

/** Longest side of the video's frames by default: the size the analysis decodes at. */
const OVERLAY_VIDEO_MAX_SIDE = 720;

export const GAP_LABEL = 'subject not in frame';

/**
 * SVG of one video frame: the caption top left and the body; a gap gets a label across the middle and no body,
 * so a frame without the subject never shows a skeleton.
 */
export function buildFrameSvg(width: number, height: number, content: OverlayFrameContent): string {
  const sizes = drawingSizes(width, height);
  const { font } = sizes;
  const body = content.body;
  const labels = new LabelLayer(width, height, font, body && bodyBox(body.keypoints, content.confidenceThreshold));
  labels.fixed(content.caption, font * 0.5, font * 0.5, '#f8fafc', { 'data-role': 'caption' });
  const drawn = body ? drawBody(body, content.confidenceThreshold, sizes, labels) : [];
  if (!body) {
    const w = textWidth(GAP_LABEL, font, true) + 0.7 * font;
    labels.fixed(GAP_LABEL, Math.max(0, (width - w) / 2), height / 2 - font, '#f59e0b', { 'data-role': 'gap' });
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...drawn,
    ...labels.leaders,
    ...labels.parts,
    '</svg>',
  ].join('\n');
}

/** One decoded frame with its content drawn on it, as RGB bytes of the same size. */
async function drawFrame(frame: VideoFrame, content: OverlayFrameContent): Promise<Buffer> {
  const { width, height, data } = frame.image;
  // Keypoints are in the video's own pixels; the frame was decoded smaller.
  const body = content.body && scaleBody(content.body, 1 / frame.scaleX, 1 / frame.scaleY);
  const svg = buildFrameSvg(width, height, { ...content, body });
  return sharp(data, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer();
}

/**
 * Draws `detailed` (the result of analysing the video at `input`) on that video's analysed frames and writes them
 * to `output` as an MP4. Frames are decoded at the analysis' frame step with the longest side at most `maxSide`
 * (default 720). On failure or abort no partial file is left.
 * @throws VideoDecodeError / VideoEncodeError from the media port, or the signal's reason when aborted
 */
export async function renderOverlayVideo(
  input: string,
  detailed: DetailedResult,
  output: string,
  options: { signal?: AbortSignal; maxSide?: number; ffmpegPath?: string } = {},
): Promise<{ frames: number; width: number; height: number; fps: number }> {
  const { signal, ffmpegPath } = options;
  const step = detailed.frame_skip;
  if (detailed.file_type !== 'video') throw new Error('overlay video: the result is not of a video');
  if (!(Number.isInteger(step) && step >= 1 && detailed.fps > 0)) throw new Error(`overlay video: invalid frame step ${step} or rate ${detailed.fps}`);
  if (detailed.frames_data.length === 0) throw new Error('overlay video: the result has no frames');
  const analysed = new Map(detailed.frames_data.map((f) => [f.frame_index, f]));
  const lastIndex = Math.max(...analysed.keys());
  const maxSide = options.maxSide ?? OVERLAY_VIDEO_MAX_SIDE;
  // The size the decoder will give, known before the first frame: the encoder is started with it.
  const size = decodedSize(detailed.width, detailed.height, maxSide);
  const fps = detailed.fps / step;

  async function* drawnFrames(): AsyncGenerator<Buffer> {
    for await (const frame of decodeVideoFrames(input, { frameStep: step, maxSide, ffmpegPath, signal })) {
      if (frame.index > lastIndex) return;
      const result = analysed.get(frame.index);
      if (!result) continue;
      if (frame.image.width !== size.width || frame.image.height !== size.height) {
        throw new Error(`overlay video: frames decode at ${frame.image.width}×${frame.image.height}, not ${size.width}×${size.height} as the analysed ${detailed.width}×${detailed.height} would`);
      }
      yield await drawFrame(frame, overlayFrameContent(detailed, result));
    }
  }

  const encoded = await encodeVideo(drawnFrames(), output, { ...size, fps, ffmpegPath, signal });
  return { ...encoded, fps };
}
