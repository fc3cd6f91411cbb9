// One-Euro filter (Casiez et al., CHI 2012): low jitter when still, low lag when moving. Used to smooth keypoints
// across video frames.
import type { Keypoint } from './pose-types.ts';

const alpha = (cutoff: number, dt: number): number => {
  const tau = 1 / (2 * Math.PI * cutoff);
  return 1 / (1 + tau / dt);
};

export class OneEuroFilter {
  private x: number | undefined;
  private dx = 0;
  private t: number | undefined;

  constructor(
    private readonly minCutoff = 1.5,
    private readonly beta = 0.5,
    private readonly dCutoff = 1,
  ) {}

  filter(value: number, t: number): number {
    if (this.x === undefined || this.t === undefined || t <= this.t) {
      this.x = value;
      this.t = t;
      return value;
    }
    const dt = t - this.t;
    const dxRaw = (value - this.x) / dt;
    this.dx += alpha(this.dCutoff, dt) * (dxRaw - this.dx);
    const cutoff = this.minCutoff + this.beta * Math.abs(this.dx);
    this.x += alpha(cutoff, dt) * (value - this.x);
    this.t = t;
    return this.x;
  }

  reset(): void {
    this.x = undefined;
    this.t = undefined;
    this.dx = 0;
  }
}

/**
 * Smooths a stream of poses. Coordinates are filtered in units of the person's height so the same settings suit
 * any resolution; points below `minScore` pass through and reset their filter (no smoothing across a gap).
 */
export class KeypointSmoother {
  private filters: Array<[OneEuroFilter, OneEuroFilter]> = [];

  constructor(
    private readonly opts: { minCutoff?: number; beta?: number; minScore?: number } = {},
  ) {}

  smooth(kps: readonly Keypoint[], t: number, personHeight: number): Keypoint[] {
    const ref = Math.max(1, personHeight);
    const minScore = this.opts.minScore ?? 0.2;
    return kps.map((k, i) => {
      let f = this.filters[i];
      if (!f) {
        f = [new OneEuroFilter(this.opts.minCutoff, this.opts.beta), new OneEuroFilter(this.opts.minCutoff, this.opts.beta)];
        this.filters[i] = f;
      }
      if (k[2] < minScore) {
        f[0].reset();
        f[1].reset();
        return [...k] as Keypoint;
      }
      return [f[0].filter(k[0] / ref, t) * ref, f[1].filter(k[1] / ref, t) * ref, k[2]];
    });
  }

  reset(): void {
    this.filters = [];
  }
}
