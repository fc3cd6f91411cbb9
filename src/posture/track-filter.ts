// Cleans keypoint tracks over a video before measuring, in the order Sports2D documents: fill short gaps,
// reject outliers, then low-pass with a zero-phase Butterworth filter, so angles neither jump nor flip per frame.
import type { Keypoint } from './keypoints.ts';
import { median } from './scoring.ts';

export interface TrackFilterOptions {
  /** Points below this score are treated as missing (default 0.3). */
  confidenceThreshold?: number;
  /** Longest run of missing frames filled by interpolation (default 10). */
  maxGapFrames?: number;
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
  readonly keypoints: readonly Keypoint[];
}

interface Track {
  t: number[];
  x: number[];
  y: number[];
  s: number[];
  ok: boolean[];
}

/**
 * Returns cleaned keypoints per frame (same length and order). Filled points take the lower score of their two
 * neighbours; rejected points that could not be filled get score 0, so metrics using them are left out.
 */
export function filterTracks(frames: readonly TrackFrame[], options: TrackFilterOptions = {}): Keypoint[][] {
  const threshold = options.confidenceThreshold ?? 0.3;
  const out = frames.map((f) => f.keypoints.map((k) => [...k] as Keypoint));
  const count = Math.max(0, ...frames.map((f) => f.keypoints.length));
  const floor = robustFloor(frames, threshold);
  for (let j = 0; j < count; j++) {
    const track: Track = { t: [], x: [], y: [], s: [], ok: [] };
    for (const f of frames) {
      const [x, y, s] = f.keypoints[j] ?? [0, 0, 0];
      track.t.push(f.timestamp);
      track.x.push(x);
      track.y.push(y);
      track.s.push(s);
      track.ok.push(s >= threshold);
    }
    const rejected = rejectOutliers(track, options.outlierHalfWindow ?? 3, options.outlierSigmas ?? 3, floor);
    fillGaps(track, options.maxGapFrames ?? 10, rejected);
    if (options.lowPass !== false) lowPass(track, options.cutoffHz ?? 6);
    track.t.forEach((_, i) => (out[i]![j] = [track.x[i]!, track.y[i]!, track.s[i]!]));
  }
  return out;
}

/**
 * Outlier scale floor: 2 % of the person's typical size, so a perfectly still track (MAD = 0) does not turn a
 * pixel of jitter into an outlier.
 */
function robustFloor(frames: readonly TrackFrame[], threshold: number): number {
  const sizes: number[] = [];
  for (const f of frames) {
    const pts = f.keypoints.filter((k) => k[2] >= threshold);
    if (pts.length < 2) continue;
    const xs = pts.map((k) => k[0]);
    const ys = pts.map((k) => k[1]);
    sizes.push(Math.hypot(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)));
  }
  return Math.max(1, 0.02 * (median(sizes) || 0));
}

/** Hampel filter on x and y: a point far from the median of its confident neighbours is marked missing. */
function rejectOutliers(track: Track, half: number, sigmas: number, floor: number): boolean[] {
  const n = track.t.length;
  const rejected = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++) {
    if (!track.ok[i]) continue;
    for (const axis of [track.x, track.y]) {
      const win: number[] = [];
      for (let k = Math.max(0, i - half); k <= Math.min(n - 1, i + half); k++) if (track.ok[k]) win.push(axis[k]!);
      if (win.length < 3) continue;
      const med = median(win);
      const scale = Math.max(1.4826 * median(win.map((v) => Math.abs(v - med))), floor);
      if (Math.abs(axis[i]! - med) > sigmas * scale) rejected[i] = true;
    }
  }
  rejected.forEach((r, i) => {
    if (r) track.ok[i] = false;
  });
  return rejected;
}

/** Linear interpolation in time across runs of missing frames no longer than `maxGap`, bounded on both sides. */
function fillGaps(track: Track, maxGap: number, rejected: readonly boolean[]): void {
  const n = track.t.length;
  let i = 0;
  while (i < n) {
    if (track.ok[i]) {
      i++;
      continue;
    }
    let end = i;
    while (end < n && !track.ok[end]) end++;
    const before = i - 1;
    if (before >= 0 && end < n && end - i <= maxGap) {
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
    i = end;
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
