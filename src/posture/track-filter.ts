// Cleans keypoint tracks over a video before measuring, in the order Sports2D documents: fill short gaps,
// reject outliers, then low-pass with a zero-phase Butterworth filter, so angles neither jump nor flip per frame.
// Nothing crosses a long gap: a track is cut into pieces there and each piece is cleaned on its own, so points
// either side of a gap (the subject out of view, or lost by the tracker) are never pulled toward each other.
import type { Keypoint } from './keypoints.ts';
import { median } from './scoring.ts';

/** Longest gap filled or smoothed across, in frames and in seconds (both must hold). */
export const DEFAULT_MAX_GAP_FRAMES = 10;
export const DEFAULT_MAX_GAP_SECONDS = 0.5;

export interface TrackFilterOptions {
  /** Points below this score are treated as missing (default 0.3). */
  confidenceThreshold?: number;
  /** A gap (run of frames where a point is missing, or nobody is there) of more frames than this is long (default 10). */
  maxGapFrames?: number;
  /**
   * A gap spanning more than this many seconds, from the last point before it to the first after it, is long
   * (default 0.5), so a coarser frame step does not stretch what "short" means.
   */
  maxGapSeconds?: number;
  /** Half-width in frames of the Hampel outlier window (default 3, i.e. 7 frames). */
  outlierHalfWindow?: number;
  /** A point is an outlier beyond this many robust standard deviations from the local median (default 3). */
  outlierSigmas?: number;
  /** Low-pass cut-off in Hz (default 6, the Sports2D default); capped below Nyquist of the sampled frames. */
  cutoffHz?: number;
  /** Set false to skip the low-pass stage (gap filling and outlier rejection still run). */
  lowPass?: boolean;
}

export interface TrackFrame {
  /** Seconds from the start of the video. */
  readonly timestamp: number;
  /** Null when the subject is not in the frame: such a frame stays null and counts as missing for every point. */
  readonly keypoints: readonly Keypoint[] | null;
}

interface Track {
  t: number[];
  x: number[];
  y: number[];
  s: number[];
  ok: boolean[];
}

interface GapLimit {
  frames: number;
  seconds: number;
}

/**
 * Returns cleaned keypoints per frame (same length and order; null frames stay null). Short gaps are filled by
 * interpolation, the filled points taking the lower score of their two neighbours; rejected points that could
 * not be filled get score 0, so metrics using them are left out. A short run of null frames is bridged inside
 * the filter (so the low-pass stays continuous) but its frames still come out null.
 */
export function filterTracks(frames: readonly TrackFrame[], options: TrackFilterOptions = {}): (Keypoint[] | null)[] {
  const threshold = options.confidenceThreshold ?? 0.3;
  const limit: GapLimit = {
    frames: options.maxGapFrames ?? DEFAULT_MAX_GAP_FRAMES,
    seconds: options.maxGapSeconds ?? DEFAULT_MAX_GAP_SECONDS,
  };
  const out = frames.map((f) => f.keypoints?.map((k) => [...k] as Keypoint) ?? null);
  const count = Math.max(0, ...frames.map((f) => f.keypoints?.length ?? 0));
  const floor = robustFloor(frames, threshold);
  for (let j = 0; j < count; j++) {
    const track: Track = { t: [], x: [], y: [], s: [], ok: [] };
    for (const f of frames) {
      const [x, y, s] = f.keypoints?.[j] ?? [0, 0, 0];
      track.t.push(f.timestamp);
      track.x.push(x);
      track.y.push(y);
      track.s.push(s);
      track.ok.push(f.keypoints !== null && s >= threshold);
    }
    const rejected = new Array<boolean>(frames.length).fill(false);
    for (const [start, end] of piecesBetweenLongGaps(track, limit)) {
      rejectOutliers(track, start, end, options.outlierHalfWindow ?? 3, options.outlierSigmas ?? 3, floor, rejected);
    }
    fillGaps(track, limit, rejected);
    // Unfilled (long) gaps stay missing, and the low-pass only runs over unbroken runs of points.
    if (options.lowPass !== false) lowPass(track, options.cutoffHz ?? 6);
    track.t.forEach((_, i) => {
      const kps = out[i];
      if (kps) kps[j] = [track.x[i]!, track.y[i]!, track.s[i]!];
    });
  }
  return out;
}

/** A run of missing frames [start, end) that must not be bridged: too many frames or too long in time. */
function isLongGap(track: Track, start: number, end: number, limit: GapLimit): boolean {
  if (end - start > limit.frames) return true;
  const before = start - 1;
  return before >= 0 && end < track.t.length && track.t[end]! - track.t[before]! > limit.seconds;
}

/** Index ranges [start, end) of the track between its long gaps: the pieces cleaned independently. */
function piecesBetweenLongGaps(track: Track, limit: GapLimit): Array<[number, number]> {
  const n = track.t.length;
  const pieces: Array<[number, number]> = [];
  let start = 0;
  for (const [i, end] of missingRuns(track.ok)) {
    if (!isLongGap(track, i, end, limit)) continue;
    if (i > start) pieces.push([start, i]);
    start = end;
  }
  if (start < n) pieces.push([start, n]);
  return pieces;
}

/** Each maximal run [start, end) of missing points, in order (read before the caller changes `ok` inside it). */
function* missingRuns(ok: readonly boolean[]): Generator<[number, number]> {
  let i = 0;
  while (i < ok.length) {
    if (ok[i]) {
      i++;
      continue;
    }
    let end = i;
    while (end < ok.length && !ok[end]) end++;
    yield [i, end];
    i = end;
  }
}

/**
 * Outlier scale floor: 2 % of the person's typical size, so a perfectly still track (MAD = 0) does not turn a
 * pixel of jitter into an outlier.
 */
function robustFloor(frames: readonly TrackFrame[], threshold: number): number {
  const sizes: number[] = [];
  for (const f of frames) {
    const pts = (f.keypoints ?? []).filter((k) => k[2] >= threshold);
    if (pts.length < 2) continue;
    const xs = pts.map((k) => k[0]);
    const ys = pts.map((k) => k[1]);
    sizes.push(Math.hypot(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)));
  }
  return Math.max(1, 0.02 * (median(sizes) || 0));
}

/**
 * Hampel filter on x and y within one piece [start, end): a point far from the median of its confident
 * neighbours is marked missing (in `rejected` and `ok`). The window stops at the piece's ends.
 */
function rejectOutliers(track: Track, start: number, end: number, half: number, sigmas: number, floor: number, rejected: boolean[]): void {
  const found: number[] = [];
  for (let i = start; i < end; i++) {
    if (!track.ok[i]) continue;
    for (const axis of [track.x, track.y]) {
      const win: number[] = [];
      for (let k = Math.max(start, i - half); k <= Math.min(end - 1, i + half); k++) if (track.ok[k]) win.push(axis[k]!);
      if (win.length < 3) continue;
      const med = median(win);
      const scale = Math.max(1.4826 * median(win.map((v) => Math.abs(v - med))), floor);
      if (Math.abs(axis[i]! - med) > sigmas * scale && found.at(-1) !== i) found.push(i);
    }
  }
  // Marked only after the pass, so each point is judged against the same neighbours whatever the order.
  for (const i of found) {
    rejected[i] = true;
    track.ok[i] = false;
  }
}

/** Linear interpolation in time across short runs of missing frames (not long gaps), bounded on both sides. */
function fillGaps(track: Track, limit: GapLimit, rejected: readonly boolean[]): void {
  const n = track.t.length;
  for (const [i, end] of missingRuns(track.ok)) {
    const before = i - 1;
    if (before >= 0 && end < n && !isLongGap(track, i, end, limit)) {
      const t0 = track.t[before]!;
      const t1 = track.t[end]!;
      for (let k = i; k < end; k++) {
        const u = t1 > t0 ? (track.t[k]! - t0) / (t1 - t0) : (k - before) / (end - before);
        track.x[k] = track.x[before]! + u * (track.x[end]! - track.x[before]!);
        track.y[k] = track.y[before]! + u * (track.y[end]! - track.y[before]!);
        track.s[k] = Math.min(track.s[before]!, track.s[end]!);
        track.ok[k] = true;
      }
    } else {
      for (let k = i; k < end; k++) if (rejected[k]) track.s[k] = 0;
    }
  }
}

/** Filters each run of consecutive usable frames separately; runs shorter than 4 frames stay as they are. */
function lowPass(track: Track, cutoffHz: number): void {
  const n = track.t.length;
  let i = 0;
  while (i < n) {
    if (!track.ok[i]) {
      i++;
      continue;
    }
    let end = i;
    while (end < n && track.ok[end]) end++;
    if (end - i >= 4) {
      const dts: number[] = [];
      for (let k = i + 1; k < end; k++) dts.push(track.t[k]! - track.t[k - 1]!);
      const dt = median(dts);
      if (dt > 0) {
        const fs = 1 / dt;
        // Keep the cut-off below Nyquist; sparse sampling then filters little, which is the honest choice.
        const fc = Math.min(cutoffHz, 0.45 * fs);
        const xs = filtfilt(track.x.slice(i, end), fc, fs);
        const ys = filtfilt(track.y.slice(i, end), fc, fs);
        for (let k = i; k < end; k++) {
          track.x[k] = xs[k - i]!;
          track.y[k] = ys[k - i]!;
        }
      }
    }
    i = end;
  }
}

interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** Second-order Butterworth low-pass by the bilinear transform with pre-warping. */
export function butterworthLowPass(cutoffHz: number, sampleHz: number): Biquad {
  const k = Math.tan((Math.PI * cutoffHz) / sampleHz);
  const norm = 1 / (1 + Math.SQRT2 * k + k * k);
  const b0 = k * k * norm;
  return { b0, b1: 2 * b0, b2: b0, a1: 2 * (k * k - 1) * norm, a2: (1 - Math.SQRT2 * k + k * k) * norm };
}

/** One causal pass, started in steady state at the first sample so a constant signal passes untouched. */
function lfilter(x: readonly number[], c: Biquad): number[] {
  const y = new Array<number>(x.length);
  let x1 = x[0]!;
  let x2 = x1;
  let y1 = x1;
  let y2 = x1;
  for (let i = 0; i < x.length; i++) {
    const v = c.b0 * x[i]! + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
    x2 = x1;
    x1 = x[i]!;
    y2 = y1;
    y1 = v;
    y[i] = v;
  }
  return y;
}

/**
 * Forward-backward filtering (zero phase: no lag between keypoints and video), with odd reflection padding at
 * both ends, as scipy's filtfilt does, so the ends do not droop.
 */
export function filtfilt(x: readonly number[], cutoffHz: number, sampleHz: number): number[] {
  const n = x.length;
  if (n < 2) return [...x];
  const c = butterworthLowPass(cutoffHz, sampleHz);
  const pad = Math.min(9, n - 1);
  const first = x[0]!;
  const last = x[n - 1]!;
  const ext: number[] = [];
  for (let k = pad; k >= 1; k--) ext.push(2 * first - x[k]!);
  ext.push(...x);
  for (let k = 1; k <= pad; k++) ext.push(2 * last - x[n - 1 - k]!);
  const forward = lfilter(ext, c);
  const backward = lfilter(forward.reverse(), c).reverse();
  return backward.slice(pad, pad + n);
}
