import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYSIS_FPS, frameStepFor } from './frame-sampling.ts';

describe('frameStepFor', () => {
  it('analyses about 10 frames a second of footage whatever the file rate, as whole steps', () => {
    expect(DEFAULT_ANALYSIS_FPS).toBe(10);
    const rates: Array<[number, number]> = [[30, 3], [29.97, 3], [60, 6], [120, 12], [25, 3], [24, 2], [50, 5], [15, 2], [10, 1], [5, 1]];
    for (const [fps, step] of rates) expect(frameStepFor(fps, {}), `${fps} fps`).toBe(step);
    // Within a quarter of the target from 15 fps up.
    for (const [fps] of rates.filter(([fps]) => fps >= 15)) {
      const rate = fps / frameStepFor(fps, {});
      expect(Math.abs(rate - 10) / 10, `${fps} fps`).toBeLessThanOrEqual(0.25);
    }
  });

  it('takes another rate, or a fixed step that wins over any rate; an unknown file rate counts as 30', () => {
    expect(frameStepFor(60, { analysisFps: 30 })).toBe(2);
    expect(frameStepFor(60, { frameStep: 4, analysisFps: 30 })).toBe(4);
    expect(frameStepFor(30, { frameStep: 1 })).toBe(1);
    expect(frameStepFor(0, {})).toBe(3);
  });
});
