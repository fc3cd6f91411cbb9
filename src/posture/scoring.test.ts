import { describe, expect, it } from 'vitest';
import { bandDirection, formatRange, linear, linearBand, median, rangeBand, round, scoreBand, trimmedMean } from './scoring.ts';

describe('linear (SPEC 5)', () => {
  it('is 1 within tolerance, 0 beyond the limit and a ramp between', () => {
    expect(linear(3.1, 0, 3.1, 15.5)).toBe(1);
    expect(linear(-3.1, 0, 3.1, 15.5)).toBe(1);
    expect(linear(15.5, 0, 3.1, 15.5)).toBe(0);
    expect(linear(-20, 0, 3.1, 15.5)).toBe(0);
    // d = 9.3: 1 − (9.3 − 3.1)/(15.5 − 3.1) = 1 − 6.2/12.4 = 0.5
    expect(linear(9.3, 0, 3.1, 15.5)).toBeCloseTo(0.5, 12);
    // zero tolerance: linear(5, 10, 0, 10) = 1 − 5/10
    expect(linear(5, 10, 0, 10)).toBeCloseTo(0.5, 12);
  });
});

describe('bands', () => {
  it('a linear band scores exactly like linear()', () => {
    const band = linearBand(46.6, 15.5, 93.2);
    for (let v = -60; v <= 160; v += 0.7) expect(scoreBand(v, band)).toBeCloseTo(linear(v, 46.6, 15.5, 93.2), 12);
  });

  it('a range band is a trapezoid', () => {
    const band = rangeBand(10, 40, 0, 80);
    expect(scoreBand(10, band)).toBe(1);
    expect(scoreBand(40, band)).toBe(1);
    expect(scoreBand(5, band)).toBeCloseTo(0.5, 12); // 1 − 5/10
    expect(scoreBand(60, band)).toBeCloseTo(0.5, 12); // 1 − 20/40
    expect(scoreBand(0, band)).toBe(0);
    expect(scoreBand(80, band)).toBe(0);
    expect(scoreBand(-3, band)).toBe(0);
  });

  it('open-ended bands never fall on the open side', () => {
    const band = rangeBand(50, Infinity, 30, Infinity);
    expect(scoreBand(170, band)).toBe(1);
    expect(scoreBand(40, band)).toBeCloseTo(0.5, 12);
    expect(formatRange(band, '°')).toBe('at least 50°');
  });

  it('reports direction and formats ranges', () => {
    const band = linearBand(0, 3.1, 15.5);
    expect(bandDirection(-4, band)).toBe('low');
    expect(bandDirection(0, band)).toBe('ideal');
    expect(bandDirection(4, band)).toBe('high');
    expect(formatRange(band, 'cm')).toBe('-3.1 to 3.1 cm');
    expect(formatRange(rangeBand(150, 170, 120, 180), '°')).toBe('150 to 170°');
  });
});

describe('numbers', () => {
  it('rounds half away from zero despite binary fractions', () => {
    expect(round(1.005, 2)).toBe(1.01);
    expect(round(-1.005, 2)).toBe(-1.01);
    expect(round(36.86989, 2)).toBe(36.87);
    expect(Object.is(round(-0.001, 2), 0)).toBe(true);
  });

  it('trimmed mean ignores one wild value among ten', () => {
    // sorted: 10 ×9 … 1000; 20 % trim drops two at each end → mean of six 10s.
    expect(trimmedMean([10, 10, 10, 10, 1000, 10, 10, 10, 10, 10], 0.2)).toBe(10);
    expect(trimmedMean([1, 2], 0.2)).toBe(1.5);
    expect(trimmedMean([], 0.2)).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
