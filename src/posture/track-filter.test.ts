import { describe, expect, it } from 'vitest';
import type { Keypoint } from './keypoints.ts';
import { filtfilt, filterTracks, type TrackFrame } from './track-filter.ts';

/** One keypoint track at 30 fps from a list of [x, y, score]. */
function track(points: Keypoint[]): TrackFrame[] {
  return points.map((p, i) => ({ timestamp: i / 30, keypoints: [p] }));
}

function xs(frames: (Keypoint[] | null)[]): number[] {
  return frames.map((f) => f![0]![0]);
}

/** Like `track`, with explicit timestamps and null frames (the subject not in the frame). */
function timed(points: Array<Keypoint | null>, dt: number): TrackFrame[] {
  return points.map((p, i) => ({ timestamp: i * dt, keypoints: p ? [p] : null }));
}

describe('filterTracks', () => {
  it('leaves a still, confident point where it is', () => {
    const out = filterTracks(track(Array.from({ length: 20 }, () => [100, 50, 0.9] as Keypoint)));
    for (const [x, y, s] of out.map((f) => f![0]!)) {
      expect(x).toBeCloseTo(100, 9);
      expect(y).toBeCloseTo(50, 9);
      expect(s).toBe(0.9);
    }
  });

  it('fills a short gap by linear interpolation in time, with the lower neighbour score', () => {
    // x = 10·i; frames 4-6 lost (score 0.1); neighbours score 0.9 and 0.8
    const pts: Keypoint[] = Array.from({ length: 12 }, (_, i) => [10 * i, 0, i === 7 ? 0.8 : 0.9]);
    for (const i of [4, 5, 6]) pts[i] = [0, 0, 0.1];
    const out = filterTracks(track(pts), { lowPass: false });
    expect(out[5]![0]).toEqual([50, 0, 0.8]);
    expect(out[4]![0]![0]).toBeCloseTo(40, 9);
    expect(out[6]![0]![0]).toBeCloseTo(60, 9);
  });

  it('leaves a gap longer than maxGapFrames and the ends of the video unfilled', () => {
    const pts: Keypoint[] = Array.from({ length: 12 }, (_, i) => [10 * i, 0, 0.9]);
    for (const i of [0, 3, 4, 5, 6]) pts[i] = [0, 0, 0.1];
    const out = filterTracks(track(pts), { lowPass: false, maxGapFrames: 3 });
    expect(out[0]![0]![2]).toBe(0.1);
    expect(out[4]![0]![2]).toBe(0.1);
  });

  it('rejects a confident outlier frame and interpolates across it', () => {
    // x = 2·i, frame 6 jumps to 400 with score 0.95 (a swapped or mis-detected point)
    const pts: Keypoint[] = Array.from({ length: 13 }, (_, i) => [2 * i, 100, 0.9]);
    pts[6] = [400, 100, 0.95];
    const out = filterTracks(track(pts), { lowPass: false });
    expect(out[6]![0]![0]).toBeCloseTo(12, 9); // halfway between 10 and 14
    expect(out[6]![0]![2]).toBe(0.9);
    // neighbours untouched
    expect(xs(out).slice(0, 6)).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it('drops an outlier that cannot be filled (score 0) rather than keep it', () => {
    const pts: Keypoint[] = Array.from({ length: 10 }, (_, i) => [100 + (i % 2), 100, 0.9]);
    pts[9] = [900, 100, 0.95]; // last frame: no right neighbour to interpolate from
    const out = filterTracks(track(pts), { lowPass: false });
    expect(out[9]![0]![2]).toBe(0);
  });

  it('low-pass removes frame-to-frame jitter but keeps slow motion', () => {
    // 1 Hz sway of ±20 px plus ±3 px alternating jitter (15 Hz, the Nyquist rate at 30 fps)
    const n = 90;
    const pts: Keypoint[] = Array.from({ length: n }, (_, i) => [
      200 + 20 * Math.sin((2 * Math.PI * i) / 30) + (i % 2 ? 3 : -3),
      0,
      0.9,
    ]);
    const out = xs(filterTracks(track(pts), { outlierSigmas: 1e9 }));
    for (let i = 10; i < n - 10; i++) {
      const slow = 200 + 20 * Math.sin((2 * Math.PI * i) / 30);
      // |H(1 Hz)|² at fc = 6 Hz ≈ 0.9992, and the 15 Hz jitter sits on the filter's zero: within 0.1 px
      expect(Math.abs(out[i]! - slow)).toBeLessThan(0.1);
    }
  });
});

describe('filterTracks and gaps', () => {
  // The subject stands at x = 100, leaves, and is back at x = 300: a step that no filter may smear over the gap.
  const before = Array.from({ length: 12 }, (): Keypoint => [100, 50, 0.9]);
  const after = Array.from({ length: 12 }, (): Keypoint => [300, 50, 0.9]);

  it('keeps a long run of null frames null and does not pull the points either side toward each other', () => {
    // 8 null frames at 15 fps: within maxGapFrames (10) but 9/15 = 0.6 s from last point to next, over 0.5 s
    const out = filterTracks(timed([...before, ...Array<null>(8).fill(null), ...after], 1 / 15));
    expect(out.slice(12, 20)).toEqual(Array(8).fill(null));
    for (const f of out.slice(0, 12)) expect(f![0]![0]).toBeCloseTo(100, 9);
    for (const f of out.slice(20)) expect(f![0]![0]).toBeCloseTo(300, 9);
  });

  it('the same gap in frames is short at a finer frame step: bridged inside the filter, still null out', () => {
    // 8 null frames at 30 fps span 0.3 s: the low-pass runs across, so the step is smoothed, but no frame is made up
    const out = filterTracks(timed([...before, ...Array<null>(8).fill(null), ...after], 1 / 30));
    expect(out.slice(12, 20)).toEqual(Array(8).fill(null));
    expect(out[11]![0]![0]).toBeGreaterThan(100.5);
    expect(out[0]![0]![0]).toBeCloseTo(100, 0);
  });

  it('does not fill low-confidence points across a gap longer than maxGapSeconds', () => {
    const pts: Keypoint[] = [...before, ...Array.from({ length: 8 }, (): Keypoint => [0, 0, 0.1]), ...after];
    const coarse = filterTracks(timed(pts, 1 / 15), { lowPass: false });
    expect(coarse[15]![0]).toEqual([0, 0, 0.1]);
    const fine = filterTracks(timed(pts, 1 / 30), { lowPass: false });
    expect(fine[15]![0]![0]).toBeCloseTo(100 + (200 * 4) / 9, 9);
    expect(filterTracks(timed(pts, 1 / 30), { lowPass: false, maxGapSeconds: 0.25 })[15]![0]![2]).toBe(0.1);
  });

  it('fills a short run of missing points beside a short null run, and leaves the null frame null', () => {
    const pts: Array<Keypoint | null> = Array.from({ length: 15 }, (_, i): Keypoint => [10 * i, 0, 0.9]);
    pts[6] = null;
    pts[7] = [0, 0, 0.1];
    const out = filterTracks(timed(pts, 1 / 30), { lowPass: false });
    expect(out[6]).toBeNull();
    expect(out[7]![0]![0]).toBeCloseTo(70, 9);
    expect(out[7]![0]![2]).toBe(0.9);
  });

  it('judges outliers only against neighbours on the same side of a long gap', () => {
    // one null frame 0.6 s long, then the point sits at 300 for 2 frames; a 9-frame Hampel window reaching back
    // over the gap would see three 100s beside them and throw the 300s out
    const pts = [...before, null, ...after.slice(0, 2)];
    const out = filterTracks(timed(pts, 0.3), { lowPass: false, outlierHalfWindow: 4 });
    for (const f of out.slice(13)) expect(f![0]).toEqual([300, 50, 0.9]);
  });
});

describe('filtfilt', () => {
  it('keeps a straight line straight (zero phase, odd padding at the ends)', () => {
    const ramp = Array.from({ length: 30 }, (_, i) => 5 + 2 * i);
    const out = filtfilt(ramp, 6, 30);
    out.forEach((v, i) => expect(Math.abs(v - ramp[i]!)).toBeLessThan(0.01));
  });

  it('passes short inputs through', () => {
    expect(filtfilt([3], 6, 30)).toEqual([3]);
  });
});
