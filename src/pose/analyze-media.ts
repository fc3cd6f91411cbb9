// One photo or video → a stream of pose frames. Decoding runs in ffmpeg (its own process) while several frames are
// in flight across the estimator's workers, so decoding overlaps inference; results come out in frame order,
// mapped to original pixels and smoothed over time.
import { randomUUID } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeImage, ImageDecodeError } from './image-decoder.ts';
import { sniffMedia, SNIFF_BYTES, type SniffedMedia } from './media-sniff.ts';
import { KeypointSmoother } from './one-euro-filter.ts';
import type { PoseEstimator } from './pose-estimator.ts';
import type { Box, Keypoint, PoseResult } from './pose-types.ts';
import { decodeVideoFrames, probeVideo, VideoDecodeError, type VideoInfo } from './video-decoder.ts';

export type MediaErrorCode = 'empty' | 'unsupported' | 'corrupt' | 'not_found';

/** A file that cannot be analysed, with a message fit for users. */
export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(readonly code: MediaErrorCode, message: string) {
    super(message);
  }
}

export interface PoseFrame {
  frame_index: number;
  /** Seconds from the start (0 for images). */
  timestamp: number;
  /** 17 COCO keypoints in original pixels, or null when nobody was found in the frame. */
  keypoints: Keypoint[] | null;
  extra?: Record<string, Keypoint>;
  box: Box | null;
  score: number;
}

export interface MediaInfo {
  file_type: 'image' | 'video';
  format: SniffedMedia['format'];
  width: number;
  height: number;
  fps: number;
  total_frames: number;
  frame_step: number;
  duration: number;
  rotation: number;
}

export interface EstimateMediaOptions {
  estimator: PoseEstimator;
  model: string;
  /** Analyse every n-th video frame (default 2). */
  frameStep?: number;
  /** Longest edge of decoded video frames (default 720). */
  maxSide?: number;
  /** Frames sent to the estimator before waiting for the oldest (default 4: two per worker on two cores). */
  inFlight?: number;
  /** One-Euro smoothing across video frames (default true). */
  smooth?: boolean;
  /** Reuse the latest person box as the next crop (default true). */
  track?: boolean;
  onInfo?: (info: MediaInfo) => void;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  ffmpegPath?: string;
  ffprobePath?: string;
}

async function readHead(file: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MediaError('not_found', code === 'ENOENT' ? `file not found: ${file}` : `cannot open ${file}: ${code}`);
  }
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** What the input is, or a MediaError for empty and unsupported content. */
export async function sniffInput(input: string | Uint8Array): Promise<SniffedMedia> {
  const head = typeof input === 'string' ? await readHead(input) : input.subarray(0, SNIFF_BYTES);
  if (head.length === 0) throw new MediaError('empty', 'the file is empty');
  const media = sniffMedia(head);
  if (!media) throw new MediaError('unsupported', 'unsupported file type: not an image (jpg, png, bmp, tiff, webp) or a video (mp4, mov, avi, mkv, webm, wmv, flv)');
  return media;
}

function scalePose(r: PoseResult, sx: number, sy: number): { keypoints: Keypoint[]; extra?: Record<string, Keypoint>; box: Box } {
  const map = (k: Keypoint): Keypoint => [k[0] * sx, k[1] * sy, k[2]];
  return {
    keypoints: r.keypoints.map(map),
    extra: r.extra ? Object.fromEntries(Object.entries(r.extra).map(([n, k]) => [n, map(k)])) : undefined,
    box: { x: r.box.x * sx, y: r.box.y * sy, width: r.box.width * sx, height: r.box.height * sy },
  };
}

const round = (v: number): number => Math.round(v * 100) / 100;
const roundKps = (kps: Keypoint[]): Keypoint[] => kps.map(([x, y, s]) => [round(x), round(y), Math.round(s * 1000) / 1000]);

function toFrame(index: number, timestamp: number, pose: ReturnType<typeof scalePose> | null, score: number): PoseFrame {
  if (!pose) return { frame_index: index, timestamp, keypoints: null, box: null, score: 0 };
  const frame: PoseFrame = { frame_index: index, timestamp, keypoints: roundKps(pose.keypoints), box: pose.box, score };
  if (pose.extra) frame.extra = Object.fromEntries(Object.entries(pose.extra).map(([n, k]) => [n, roundKps([k])[0]!]));
  return frame;
}

/** Pose of every analysed frame of a photo (one frame) or a video (every `frameStep`-th frame), in order. */
export async function* estimateMedia(input: string | Uint8Array, opts: EstimateMediaOptions): AsyncGenerator<PoseFrame> {
  const media = await sniffInput(input);
  if (media.kind === 'image') {
    let img;
    try {
      img = await decodeImage(input, { maxSide: 4096 });
    } catch (err) {
      if (err instanceof ImageDecodeError) throw new MediaError('corrupt', `invalid or corrupt image: ${err.message}`);
      throw err;
    }
    opts.onInfo?.({ file_type: 'image', format: media.format, width: img.originalWidth, height: img.originalHeight, fps: 0,
      total_frames: 1, frame_step: 1, duration: 0, rotation: 0 });
    const r = await opts.estimator.estimate(img, { model: opts.model, signal: opts.signal });
    opts.onProgress?.(1, 1);
    yield toFrame(0, 0, r ? scalePose(r, img.scale, img.scale) : null, r?.score ?? 0);
    return;
  }
  // Video: ffmpeg needs a seekable file (an mp4's index may sit at the end), so buffers go to a temp file.
  let file = typeof input === 'string' ? input : '';
  let temp: string | undefined;
  if (typeof input !== 'string') {
    temp = path.join(os.tmpdir(), `postura-${randomUUID()}.${media.format}`);
    await writeFile(temp, input);
    file = temp;
  }
  try {
    yield* estimateVideo(file, media, opts);
  } finally {
    if (temp) await rm(temp, { force: true });
  }
}

async function* estimateVideo(file: string, media: SniffedMedia, opts: EstimateMediaOptions): AsyncGenerator<PoseFrame> {
  const step = Math.max(1, Math.floor(opts.frameStep ?? 2));
  let info: VideoInfo;
  try {
    info = await probeVideo(file, { ffprobePath: opts.ffprobePath, signal: opts.signal });
  } catch (err) {
    if (err instanceof VideoDecodeError) throw new MediaError('corrupt', `invalid or corrupt video: ${err.message}`);
    throw err;
  }
  const total = Math.max(1, Math.ceil(info.frameCount / step));
  opts.onInfo?.({ file_type: 'video', format: media.format, width: info.width, height: info.height, fps: info.fps,
    total_frames: info.frameCount, frame_step: step, duration: info.duration, rotation: info.rotation });
  const smoother = opts.smooth === false ? null : new KeypointSmoother();
  const maxInFlight = Math.max(1, opts.inFlight ?? 4);
  // Latest person box in decoded pixels. With several frames in flight it lags a few frames behind; the crop's
  // margin absorbs that, and the engine searches the whole frame again when the person is lost.
  let trackBox: Box | null = null;
  // A whole-frame search (locator + two crops) costs ~3 tracked frames. While nobody is tracked, the frames after a
  // search wait for its box instead of all searching in parallel; after a search that found nobody they no longer
  // wait (a video without a person still uses every worker).
  let searchFailed = false;
  const tracking = opts.track !== false;
  // The newest answered frame (answers arrive out of order across workers): a frame that waits for a free worker
  // takes its box when it is sent, one or two frames fresher than `trackBox`.
  let newest: { index: number; box: Box | null } = { index: -1, box: null };
  const pending: Array<{ index: number; timestamp: number; sx: number; sy: number; search: boolean; result: Promise<PoseResult | null> }> = [];
  let done = 0;
  const finish = async function* (): AsyncGenerator<PoseFrame> {
    const p = pending.shift()!;
    const r = await p.result;
    if (tracking) trackBox = r ? r.box : null;
    if (p.search) searchFailed = !r;
    let pose = r ? scalePose(r, p.sx, p.sy) : null;
    if (pose && smoother) pose = { ...pose, keypoints: smoother.smooth(pose.keypoints, p.timestamp, pose.box.height) };
    if (!pose) smoother?.reset();
    done++;
    opts.onProgress?.(done, Math.max(total, done));
    yield toFrame(p.index, p.timestamp, pose, r?.score ?? 0);
  };
  try {
    const estimator = opts.estimator;
    const frames = decodeVideoFrames(file, { frameStep: step, maxSide: opts.maxSide, ffmpegPath: opts.ffmpegPath, signal: opts.signal, info,
      // Frame buffers the workers handed back are refilled (a fixed set cycles instead of one new buffer per frame).
      allocate: (n) => estimator.pixelBuffer?.(n) ?? new Uint8Array(n) });
    for await (const f of frames) {
      if (tracking && !trackBox && !searchFailed) while (pending.some((p) => p.search)) yield* finish();
      const track = tracking ? trackBox : null;
      const sentAfter = newest.index;
      const result = opts.estimator.estimate(f.image, {
        model: opts.model, signal: opts.signal, track, sequence: true,
        latestTrack: tracking ? () => (newest.index > sentAfter ? newest.box : track) : undefined,
      });
      const index = f.index;
      result.then((r) => {
        if (index > newest.index) newest = { index, box: r ? r.box : null };
      }, () => undefined);
      pending.push({ index: f.index, timestamp: f.timestamp, sx: f.scaleX, sy: f.scaleY, search: !track, result });
      while (pending.length >= maxInFlight) yield* finish();
    }
    while (pending.length > 0) yield* finish();
  } catch (err) {
    if (err instanceof VideoDecodeError) throw new MediaError('corrupt', `invalid or corrupt video: ${err.message}`);
    throw err;
  }
}

/** Collects `estimateMedia` with its media info (convenient for images and tests; videos stream better). */
export async function estimateMediaAll(input: string | Uint8Array, opts: EstimateMediaOptions): Promise<{ info: MediaInfo; frames: PoseFrame[] }> {
  let info: MediaInfo | undefined;
  const frames: PoseFrame[] = [];
  for await (const f of estimateMedia(input, { ...opts, onInfo: (i) => ((info = i), opts.onInfo?.(i)) })) frames.push(f);
  return { info: info!, frames };
}
