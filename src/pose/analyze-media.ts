// One photo or video → a stream of the subject's pose frames. Decoding runs in ffmpeg (its own process) while
// frames are in flight across the estimator's workers, so decoding overlaps inference; results come out in frame
// order, mapped to original pixels and smoothed over time. Which frames run at once never changes what they compute
// (video-pose.ts).
import { randomUUID } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeImage, ImageDecodeError } from './image-decoder.ts';
import { sniffMedia, SNIFF_BYTES, type SniffedMedia } from './media-sniff.ts';
import { KeypointSmoother } from './one-euro-filter.ts';
import type { PoseEstimator } from './pose-estimator.ts';
import type { Box, Keypoint, PoseResult } from './pose-types.ts';
import { chooseSubject, linkPeople, summarisePeople, type PersonSummary, type SubjectChoice, type SubjectDecision } from './subject-tracks.ts';
import { probeVideo, VideoDecodeError, VideoTooLongError, type VideoInfo } from './video-decoder.ts';
import { frameStepFor } from './frame-sampling.ts';
import { DEFAULT_SPOOL_BYTES, FrameSpool } from './frame-spool.ts';
import { DEFAULT_KEYFRAME_SECONDS, DEFAULT_TRACK_LAG, keyframeInterval, locateVideoPeople, trackSubject } from './video-pose.ts';

export type MediaErrorCode = 'empty' | 'unsupported' | 'corrupt' | 'not_found' | 'too_long';

/** A file that cannot be analysed, with a message fit for users. */
export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(readonly code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
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
  fileType: 'image' | 'video';
  format: SniffedMedia['format'];
  width: number;
  height: number;
  fps: number;
  totalFrames: number;
  frameStep: number;
  duration: number;
  rotation: number;
}

export interface MediaPeople {
  people: PersonSummary[];
  subject: SubjectDecision;
  /** Analysed frames between keyframes (1 for a photo). */
  keyframe_interval: number;
}

export interface EstimateMediaOptions {
  estimator: PoseEstimator;
  model: string;
  /** Analyse every n-th video frame; when absent, the step follows `analysisFps`. */
  frameStep?: number;
  /** Analysed frames per second of footage when no frameStep is given (default 10; see frameStepFor). */
  analysisFps?: number;
  /**
   * Analysed frames (after frameStep) of a video at most (default: no bound). A longer video fails with
   * MediaError('too_long') before any inference when its metadata says so, else as soon as decoding passes it.
   */
  maxFrames?: number;
  /** Longest edge of decoded video frames (default 720). */
  maxSide?: number;
  /**
   * Bytes of decoded frames kept on disk between a video's two passes (default DEFAULT_SPOOL_BYTES; 0: decode the
   * file twice). Speed only: the frames are the same either way.
   */
  spoolBytes?: number;
  /** Keyframes (locator passes) in flight at once (default 4). Changes speed only, never results. */
  inFlight?: number;
  /** Everybody is located every this many seconds of video (default 0.5; at least every analysed frame). Part of
   *  what a result depends on. */
  keyframeSeconds?: number;
  /**
   * Frame t's crop comes from frame t − trackLag's answer (default 2): the frames that may run in parallel. Part
   * of what a result depends on, and never taken from the worker count.
   */
  trackLag?: number;
  /** Who to analyse when several people are in the picture (default: the automatic rule of subject-tracks.ts). */
  subject?: SubjectChoice;
  /** Stop after locating the people (`--list-people`): no frame is yielded. */
  peopleOnly?: boolean;
  /** One-Euro smoothing across video frames (default true). */
  smooth?: boolean;
  onInfo?: (info: MediaInfo) => void;
  /** Everybody found, and the subject, before any frame. */
  onPeople?: (people: MediaPeople) => void;
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

function scalePose(r: Pick<PoseResult, 'keypoints' | 'extra' | 'box'>, sx: number, sy: number): { keypoints: Keypoint[]; extra?: Record<string, Keypoint>; box: Box } {
  const map = (k: Keypoint): Keypoint => [k[0] * sx, k[1] * sy, k[2]];
  return {
    keypoints: r.keypoints.map(map),
    extra: r.extra ? Object.fromEntries(Object.entries(r.extra).map(([n, k]) => [n, map(k)])) : undefined,
    box: { x: r.box.x * sx, y: r.box.y * sy, width: r.box.width * sx, height: r.box.height * sy },
  };
}

const scaleBox = (b: Box, sx: number, sy: number): Box => ({ x: Math.round(b.x * sx), y: Math.round(b.y * sy), width: Math.round(b.width * sx), height: Math.round(b.height * sy) });

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
      if (err instanceof ImageDecodeError) throw new MediaError('corrupt', err.message, { cause: err });
      throw err;
    }
    opts.onInfo?.({ fileType: 'image', format: media.format, width: img.originalWidth, height: img.originalHeight, fps: 0,
      totalFrames: 1, frameStep: 1, duration: 0, rotation: 0 });
    // The locator lists everybody; the subject (the most prominent, or the user's choice) is then analysed alone.
    const located = await opts.estimator.people(img, { model: opts.model, signal: opts.signal });
    const keyframes = [{ frame: 0, frame_index: 0, timestamp: 0, people: located }];
    const tracks = linkPeople(keyframes);
    const choice = opts.subject?.kind === 'point' ? { ...opts.subject, x: opts.subject.x / img.scale, y: opts.subject.y / img.scale } : opts.subject;
    const subject = chooseSubject(tracks, keyframes, choice);
    if (opts.subject?.kind === 'point') subject.rule = chooseSubject([], [], opts.subject).rule;
    const people = summarisePeople(tracks, keyframes).map((p) => ({ ...p, mean_box: scaleBox(p.mean_box, img.scale, img.scale) }));
    opts.onPeople?.({ people, subject, keyframe_interval: 1 });
    if (opts.peopleOnly) return;
    const person = tracks.find((t) => t.id === subject.id)?.seen.get(0);
    // Nobody located: the engine still tries the whole image (the locator can miss a lone, cropped body). A chosen
    // person who is not there gives no pose at all, never someone else's.
    const chosenMissing = opts.subject !== undefined && opts.subject.kind !== 'auto' && !person;
    const r = chosenMissing ? null : await opts.estimator.estimate(img, { model: opts.model, signal: opts.signal, person: person ? { box: person.box, keypoints: person.keypoints } : null });
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
  let info: VideoInfo;
  try {
    info = await probeVideo(file, { ffprobePath: opts.ffprobePath, signal: opts.signal });
  } catch (err) {
    if (err instanceof VideoDecodeError) throw new MediaError('corrupt', `invalid or corrupt video: ${err.message}`);
    throw err;
  }
  const step = frameStepFor(info.fps, opts);
  const total = Math.max(1, Math.ceil(info.frameCount / step));
  const maxFrames = opts.maxFrames ?? Infinity;
  const tooLong = () => new MediaError('too_long', `the video is too long: at most ${maxFrames} analysed frames `
    + `(${maxFrames * step} frames at one in ${step}) are accepted`);
  if (total > maxFrames) throw tooLong();
  const maxFrameIndex = Number.isFinite(maxFrames) ? maxFrames * step - 1 : undefined;
  const interval = keyframeInterval(opts.keyframeSeconds ?? DEFAULT_KEYFRAME_SECONDS, info.fps, step);
  const keyframes = Math.ceil(total / interval);
  opts.onInfo?.({ fileType: 'video', format: media.format, width: info.width, height: info.height, fps: info.fps,
    totalFrames: info.frameCount, frameStep: step, duration: info.duration, rotation: info.rotation });
  // Progress counts keyframes and frames: a keyframe (locator) costs about as much as a frame.
  let done = 0;
  const all = opts.peopleOnly ? keyframes : total + keyframes;
  const progress = (): void => opts.onProgress?.(++done, Math.max(all, done));
  const common = { estimator: opts.estimator, model: opts.model, frameStep: step, maxSide: opts.maxSide, signal: opts.signal,
    ffmpegPath: opts.ffmpegPath, maxFrameIndex };
  const spoolBytes = opts.spoolBytes ?? DEFAULT_SPOOL_BYTES;
  const spool = opts.peopleOnly || spoolBytes <= 0 ? undefined : await FrameSpool.create({ maxBytes: spoolBytes }).catch(() => undefined);
  try {
    const scene = await locateVideoPeople(file, info, { ...common, keyframeInterval: interval, inFlight: Math.max(1, opts.inFlight ?? 4),
      subject: opts.subject, onKeyframe: progress, spool });
    opts.onPeople?.({ people: scene.people, subject: scene.subject, keyframe_interval: interval });
    if (opts.peopleOnly) return;
    const smoother = opts.smooth === false ? null : new KeypointSmoother();
    for await (const f of trackSubject(file, info, scene, { ...common, trackLag: opts.trackLag ?? DEFAULT_TRACK_LAG, spool })) {
      let pose = f.pose ? scalePose(f.pose, f.scaleX, f.scaleY) : null;
      // A gap restarts the filter: smoothing never carries one stretch of the subject into the next.
      if (pose && smoother) pose = { ...pose, keypoints: smoother.smooth(pose.keypoints, f.timestamp, pose.box.height) };
      if (!pose) smoother?.reset();
      opts.signal?.throwIfAborted();
      progress();
      yield toFrame(f.frame_index, f.timestamp, pose, f.pose?.score ?? 0);
    }
  } catch (err) {
    if (err instanceof VideoTooLongError) throw tooLong();
    if (err instanceof VideoDecodeError) throw new MediaError('corrupt', `invalid or corrupt video: ${err.message}`);
    throw err;
  } finally {
    await spool?.dispose();
  }
}

/** Collects `estimateMedia` with its media info (convenient for images and tests; videos stream better). */
export async function estimateMediaAll(input: string | Uint8Array, opts: EstimateMediaOptions): Promise<{ info: MediaInfo; frames: PoseFrame[] }> {
  let info: MediaInfo | undefined;
  const frames: PoseFrame[] = [];
  for await (const f of estimateMedia(input, { ...opts, onInfo: (i) => ((info = i), opts.onInfo?.(i)) })) frames.push(f);
  return { info: info!, frames };
}
