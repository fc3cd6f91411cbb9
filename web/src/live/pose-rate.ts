// How fast the pose model runs on this device: shown on the page, sent as the device's fps hint, and read by the
// browser test for the in-browser pose rate in BENCHMARKS.md.

export interface PoseRateReading {
  /** Poses estimated per second over the last window. */
  perSecond: number;
  /** Mean time of one estimate (crop, inference, read-back) over the window. */
  inferenceMs: number;
  /** Poses since the page opened. */
  total: number;
}

export class PoseRate {
  private readonly samples: { endedAt: number; ms: number }[] = [];
  private total = 0;

  constructor(private readonly windowMs = 2000) {}

  record(startedAt: number, endedAt: number): void {
    this.total += 1;
    this.samples.push({ endedAt, ms: endedAt - startedAt });
    while (this.samples.length > 0 && this.samples[0]!.endedAt < endedAt - this.windowMs) this.samples.shift();
  }

  /** Null until two poses fall within the window. */
  read(): PoseRateReading | null {
    const n = this.samples.length;
    if (n < 2) return null;
    const span = this.samples[n - 1]!.endedAt - this.samples[0]!.endedAt;
    const inferenceMs = this.samples.reduce((sum, s) => sum + s.ms, 0) / n;
    return { perSecond: span > 0 ? ((n - 1) * 1000) / span : 0, inferenceMs, total: this.total };
  }
}
