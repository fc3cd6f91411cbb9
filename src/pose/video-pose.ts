// A video → the subject's pose on every analysed frame, the same whatever the number of threads or their timing.
//
// Two passes over the file. (1) Keyframes: every K-th analysed frame is decoded and everybody on it located; the
// detections are linked into people and the subject chosen (subject-tracks.ts). (2) Frames: each analysed frame's
// crop comes from the subject's keyframe box when a keyframe is fresher than `trackLag` frames, else from frame
// t − trackLag's answer, else from the subject's box interpolated between keyframes; nobody expected → a gap with
// no inference. So what frame t computes depends only on the file and the options: `trackLag` frames may run in
// parallel (it is the pipeline's parallelism), never more, and no frame takes "the newest box" of whoever finished.
import type { PoseEstimator } from './pose-estimator.ts';
import type { Box, PersonCandidate, PoseResult } from './pose-types.ts';
import {
  chooseSubject,
  expectedBox,
  isSubjectPose,
  linkPeople,
  summarisePeople,
  type Keyframe,
  type PersonSummary,
  type PersonTrack,
  type SubjectChoice,
  type SubjectDecision,
} from './subject-tracks.ts';
import type { FrameSpool } from './frame-spool.ts';
import { decodeVideoFrames, type VideoInfo } from './video-decoder.ts';

/** Default time between keyframes: a walking person moves about half a body width in it, so boxes still overlap. */
export const DEFAULT_KEYFRAME_SECONDS = 0.5;

/** Keyframe interval in analysed frames: fixed by the file's frame rate and the options, never by anything else. */
export function keyframeInterval(seconds: number, fps: number, frameStep: number): number {
  return Math.max(1, Math.round((seconds * (fps > 0 ? fps : 30)) / frameStep));
}
/**
 * Default distance (analysed frames) from a frame to the earlier answer its crop comes from: four frames may run at
 * once, two per worker on two cores, so no worker waits for a round trip (measured on a 10 s 1080p walk, 2 workers:
 * frames pass 18.5 s with 2, 17.5 s with 4; no more crops lost). A box 4 frames old is ~0.27 s old at 30 fps.
 */
export const DEFAULT_TRACK_LAG = 4;

export interface VideoPeopleOptions {
  estimator: PoseEstimator;
  model: string;
  frameStep: number;
  maxSide?: number;
  keyframeInterval: number;
  /** Keyframes in flight at once (speed only: keyframes are independent). */
  inFlight: number;
  subject?: SubjectChoice;
  signal?: AbortSignal;
  ffmpegPath?: string;
  /** Source frame index beyond which decoding fails (VideoTooLongError). */
  maxFrameIndex?: number;
  onKeyframe?: () => void;
  /** Keeps every analysed frame for the second pass (which then reads them instead of decoding the file again). */
  spool?: FrameSpool;
}

/** Everybody in a video and the subject, in decoded pixels (`scaleX`/`scaleY` map to original pixels). */
export interface VideoPeople {
  keyframes: Keyframe[];
  tracks: PersonTrack[];
  people: PersonSummary[];
  subject: SubjectDecision;
  interval: number;
  scaleX: number;
  scaleY: number;
}

const scaleBox = (b: Box, sx: number, sy: number): Box => ({ x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy });

/** Pass 1: locate everybody on every keyframe, link them into people, choose the subject. */
export async function locateVideoPeople(file: string, info: VideoInfo, opts: VideoPeopleOptions): Promise<VideoPeople> {
  const interval = Math.max(1, Math.floor(opts.keyframeInterval));
  const keyframes: Keyframe[] = [];
  const pending: Array<{ frame: number; frame_index: number; timestamp: number; people: Promise<PersonCandidate[]> }> = [];
  let scaleX = 1;
  let scaleY = 1;
  const finish = async (): Promise<void> => {
    const p = pending.shift()!;
    keyframes.push({ frame: p.frame, frame_index: p.frame_index, timestamp: p.timestamp, people: await p.people });
    opts.onKeyframe?.();
  };
  const estimator = opts.estimator;
  const spool = opts.spool;
  // With a spool, every analysed frame is decoded (and kept); without, only the keyframes.
  const step = spool ? opts.frameStep : opts.frameStep * interval;
  /** A frame's buffer that went no further than the spool, for the decoder to refill. */
  let spare: Uint8Array | undefined;
  const allocate = (n: number): Uint8Array => {
    const reuse = spare?.byteLength === n ? spare : undefined;
    spare = undefined;
    return reuse ?? estimator.pixelBuffer?.(n) ?? new Uint8Array(n);
  };
  for await (const f of decodeVideoFrames(file, { frameStep: step, maxSide: opts.maxSide, ffmpegPath: opts.ffmpegPath,
    signal: opts.signal, info, maxFrameIndex: opts.maxFrameIndex, allocate })) {
    // Frames already decoded ahead must not turn into requests once the work is called off.
    opts.signal?.throwIfAborted();
    ({ scaleX, scaleY } = f);
    // Written before the pixels are handed to a worker (the transfer empties the buffer).
    if (spool) await spool.append(f);
    if ((f.index / opts.frameStep) % interval !== 0) {
      spare = f.image.data;
      continue;
    }
    const people = estimator.people(f.image, { model: opts.model, signal: opts.signal, sequence: true });
    people.catch(() => undefined);
    pending.push({ frame: f.index / opts.frameStep, frame_index: f.index, timestamp: f.timestamp, people });
    while (pending.length >= Math.max(1, opts.inFlight)) await finish();
  }
  while (pending.length > 0) await finish();
  spool?.close();
  const tracks = linkPeople(keyframes);
  let choice = opts.subject ?? { kind: 'auto' };
  // A point is given in original pixels; the keyframes are in decoded ones.
  if (choice.kind === 'point') choice = { ...choice, x: choice.x / scaleX, y: choice.y / scaleY };
  const subject = chooseSubject(tracks, keyframes, choice);
  if (opts.subject?.kind === 'point') subject.rule = chooseSubject([], [], opts.subject).rule;
  const people = summarisePeople(tracks, keyframes).map((p) => ({ ...p, mean_box: roundBox(scaleBox(p.mean_box, scaleX, scaleY)) }));
  return { keyframes, tracks, people, subject, interval, scaleX, scaleY };
}

const roundBox = (b: Box): Box => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });

export interface TrackedFrame {
  frame_index: number;
  timestamp: number;
  /** The subject's pose in decoded pixels, or null: a gap (the subject is not there, or could not be told apart). */
  pose: PoseResult | null;
  scaleX: number;
  scaleY: number;
}

export interface TrackSubjectOptions {
  estimator: PoseEstimator;
  model: string;
  frameStep: number;
  maxSide?: number;
  trackLag: number;
  signal?: AbortSignal;
  ffmpegPath?: string;
  maxFrameIndex?: number;
  /** The analysed frames kept by pass 1; without it (or when incomplete) the file is decoded again. */
  spool?: FrameSpool;
}

/** Pass 2: the subject's pose on every analysed frame, in frame order. */
export async function* trackSubject(file: string, info: VideoInfo, scene: VideoPeople, opts: TrackSubjectOptions): AsyncGenerator<TrackedFrame> {
  const subject = scene.tracks.find((t) => t.id === scene.subject.id);
  const others = scene.tracks.filter((t) => t !== subject);
  const lag = Math.max(1, Math.floor(opts.trackLag));
  const interval = scene.interval;
  /** Accepted answers' boxes by analysed-frame ordinal (null: a gap); only the last `lag` are needed. */
  const answers = new Map<number, Box | null>();
  const pending: Array<{ frame: number; index: number; timestamp: number; sx: number; sy: number; crop: Box | null; result: Promise<PoseResult | null> }> = [];
  const finish = async (): Promise<TrackedFrame> => {
    const p = pending.shift()!;
    const r = await p.result;
    const pose = r && subject && isSubjectPose(r.box, p.frame, subject, others, interval, p.crop ?? undefined) ? r : null;
    answers.set(p.frame, pose ? pose.box : null);
    answers.delete(p.frame - lag);
    return { frame_index: p.index, timestamp: p.timestamp, pose, scaleX: p.sx, scaleY: p.sy };
  };
  const estimator = opts.estimator;
  const allocate = (n: number): Uint8Array => estimator.pixelBuffer?.(n) ?? new Uint8Array(n);
  const decoded = opts.spool?.complete
    ? opts.spool.frames(allocate, opts.signal)
    : decodeVideoFrames(file, { frameStep: opts.frameStep, maxSide: opts.maxSide, ffmpegPath: opts.ffmpegPath,
      signal: opts.signal, info, maxFrameIndex: opts.maxFrameIndex, allocate });
  // Frames are decoded ahead: a frame's crop waits for the answer `lag` frames back, and the next frame must then be
  // ready at once (read through the pipe only when asked for, a 2.7 MB frame leaves a worker idle for milliseconds).
  for await (const f of readAhead(decoded, READ_AHEAD_FRAMES)) {
    opts.signal?.throwIfAborted();
    const frame = f.index / opts.frameStep;
    // Frame t − lag must be answered before frame t's crop is settled (with lag frames in flight, it is the oldest).
    while (pending.length > 0 && pending[0]!.frame <= frame - lag) yield await finish();
    const crop = subject ? cropFor(subject, frame, answers.get(frame - lag) ?? null, lag, interval) : null;
    const result = crop
      ? estimator.estimate(f.image, { model: opts.model, signal: opts.signal, track: crop, search: false, sequence: true })
      : Promise.resolve(null);
    result.catch(() => undefined);
    pending.push({ frame, index: f.index, timestamp: f.timestamp, sx: f.scaleX, sy: f.scaleY, crop, result });
  }
  while (pending.length > 0) yield await finish();
}

/** Decoded frames kept ready beyond the one being dispatched (2.7 MB each at 720p). */
const READ_AHEAD_FRAMES = 2;

/** Pulls up to `n` items of `source` ahead of the consumer (order and values unchanged). */
export async function* readAhead<T>(source: AsyncGenerator<T>, n: number): AsyncGenerator<T> {
  const ahead: Array<Promise<IteratorResult<T>>> = [];
  try {
    for (;;) {
      // An async generator serves queued next() calls one after another, in order.
      while (ahead.length < n + 1) {
        const next = source.next();
        // Awaited in turn below; until then a decoding error must not count as unhandled.
        next.catch(() => undefined);
        ahead.push(next);
      }
      const r = await ahead.shift()!;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await Promise.allSettled(ahead);
    await source.return(undefined);
  }
}

/**
 * The box frame `frame` is cropped around: the subject's detection on the latest keyframe when that is newer than
 * the answer `lag` frames back (a fresh, located box re-anchors the track), else that answer, else the subject's
 * box interpolated between keyframes; null when the subject is not expected on this frame.
 */
export function cropFor(subject: PersonTrack, frame: number, previous: Box | null, lag: number, interval: number): Box | null {
  const keyframe = Math.floor(frame / interval) * interval;
  const located = subject.seen.get(keyframe);
  if (located && keyframe > frame - lag) return located.box;
  return previous ?? expectedBox(subject, frame, interval);
}
