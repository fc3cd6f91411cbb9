import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import { aggregateSamples, assertConsistentTotals, MAX_EVENT_GAP_SECONDS, resolveTotals, summarize, totalsFromEvents, type EventSample } from './session-summary.ts';

const at = (seconds: number, label: string | null, angle: number | null = 0): EventSample =>
  ({ label, angle, timestamp: new Date(1_700_000_000_000 + seconds * 1000) });

describe('totalsFromEvents', () => {
  it('gives each event the time until the next, the last one the median gap', () => {
    // Gaps 1, 1, 3 (median 1); unordered input is sorted by time.
    const samples = [at(5, 'Bad'), at(0, 'Good'), at(1, 'good'), at(2, 'Mild')];
    expect(totalsFromEvents(samples)).toEqual({ totalSeconds: 6, goodSeconds: 2, mildSeconds: 3, badSeconds: 1 });
  });

  it('caps long gaps and counts unlabelled events toward the total only', () => {
    const samples = [at(0, 'Good'), at(60, null), at(61, 'Custom')];
    expect(totalsFromEvents(samples)).toEqual({
      totalSeconds: MAX_EVENT_GAP_SECONDS + 1 + 3, goodSeconds: MAX_EVENT_GAP_SECONDS, mildSeconds: 0, badSeconds: 0,
    });
  });

  it('is zero for no events or a single event', () => {
    const zero = { totalSeconds: 0, goodSeconds: 0, mildSeconds: 0, badSeconds: 0 };
    expect(totalsFromEvents([])).toEqual(zero);
    expect(totalsFromEvents([at(0, 'Good')])).toEqual(zero);
  });

  it('never rounds the parts above the total', () => {
    const samples = [at(0, 'Good'), at(0.335, 'Mild'), at(0.67, 'Bad'), at(1.005, 'Good')];
    const t = totalsFromEvents(samples);
    expect(t.goodSeconds + t.mildSeconds + t.badSeconds).toBeLessThanOrEqual(t.totalSeconds);
  });
});

describe('resolveTotals', () => {
  const computed = { totalSeconds: 10, goodSeconds: 6, mildSeconds: 2, badSeconds: 2 };

  it('keeps given values and computes the omitted ones', () => {
    expect(resolveTotals({}, computed)).toEqual(computed);
    expect(resolveTotals({ badSeconds: 1, totalSeconds: null }, computed)).toEqual({ ...computed, badSeconds: 1 });
  });

  it('grows a computed total to hold given parts, and shrinks computed parts to fit a given total', () => {
    expect(resolveTotals({ goodSeconds: 20 }, computed)).toEqual({ totalSeconds: 24, goodSeconds: 20, mildSeconds: 2, badSeconds: 2 });
    expect(resolveTotals({ totalSeconds: 5, goodSeconds: 3 }, computed)).toEqual({ totalSeconds: 5, goodSeconds: 3, mildSeconds: 1, badSeconds: 1 });
    expect(resolveTotals({ totalSeconds: 4, goodSeconds: 4 }, computed)).toEqual({ totalSeconds: 4, goodSeconds: 4, mildSeconds: 0, badSeconds: 0 });
  });

  it('refuses given parts that add up to more than the given total', () => {
    expect(() => assertConsistentTotals({ totalSeconds: 3, goodSeconds: 2, badSeconds: 2 })).toThrow(AppError);
    expect(() => assertConsistentTotals({ totalSeconds: 4, goodSeconds: 2, badSeconds: 2 })).not.toThrow();
    expect(() => assertConsistentTotals({ goodSeconds: 50 })).not.toThrow();
  });
});

describe('summarize', () => {
  it('counts events and averages the known angles', () => {
    const totals = { totalSeconds: 1, goodSeconds: 1, mildSeconds: 0, badSeconds: 0 };
    expect(summarize(totals, aggregateSamples([at(0, 'Good', 10), at(1, null, null), at(2, 'Bad', 21)])))
      .toEqual({ ...totals, eventCount: 3, averageAngle: 15.5 });
    expect(summarize(totals, aggregateSamples([])).averageAngle).toBeNull();
  });
});
