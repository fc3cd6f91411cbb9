import { describe, expect, it } from 'vitest';
import { angle, angleFromVertical, distance, elevation, leanFromVertical, midpoint, pointAbove } from './geometry.ts';

describe('angle', () => {
  it('is 180 for a straight joint and 90 for a right angle', () => {
    expect(angle({ x: 0, y: 0 }, { x: 0, y: 10 }, { x: 0, y: 20 })).toBeCloseTo(180, 10);
    expect(angle({ x: 0, y: 0 }, { x: 0, y: 10 }, { x: 10, y: 10 })).toBeCloseTo(90, 10);
  });

  it('matches a 3-4-5 triangle', () => {
    // Rays (4, 0) and (0, 3) from b, seen from a = (4, 0): the angle at a is atan(3/4) = 36.8699°.
    expect(angle({ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 0, y: 3 })).toBeCloseTo(36.8699, 4);
    expect(angle({ x: 4, y: 0 }, { x: 0, y: 3 }, { x: 0, y: 0 })).toBeCloseTo(53.1301, 4);
  });

  it('is 0 for a fully folded joint and NaN for a zero-length ray', () => {
    expect(angle({ x: 5, y: 5 }, { x: 0, y: 0 }, { x: 10, y: 10 })).toBeCloseTo(0, 10);
    expect(angle({ x: 0, y: 0 }, { x: 0, y: 0 }, { x: 1, y: 1 })).toBeNaN();
  });

  it('does not depend on orientation (interior angle)', () => {
    const a = { x: 3, y: 4 };
    const b = { x: 0, y: 0 };
    const c = { x: 5, y: 0 };
    expect(angle(a, b, c)).toBeCloseTo(angle(c, b, a), 12);
    expect(angle(a, b, c)).toBeCloseTo(53.1301, 4); // cos = 3/5
  });
});

describe('vertical and horizontal references (y grows downward)', () => {
  it('pointAbove has a smaller y', () => {
    expect(pointAbove({ x: 2, y: 10 }, 4)).toEqual({ x: 2, y: 6 });
  });

  it('angleFromVertical: 0 straight up, 90 sideways, 180 straight down', () => {
    const o = { x: 100, y: 100 };
    expect(angleFromVertical(o, { x: 100, y: 0 })).toBeCloseTo(0, 10);
    expect(angleFromVertical(o, { x: 150, y: 100 })).toBeCloseTo(90, 10);
    expect(angleFromVertical(o, { x: 100, y: 200 })).toBeCloseTo(180, 10);
    // 3-4-5: 30 right, 40 up → atan(30/40) = 36.8699°.
    expect(angleFromVertical(o, { x: 130, y: 60 })).toBeCloseTo(36.8699, 4);
  });

  it('elevation is positive when the target is higher, whichever side it is on', () => {
    expect(elevation({ x: 0, y: 0 }, { x: 40, y: -30 })).toBeCloseTo(36.8699, 4);
    expect(elevation({ x: 0, y: 0 }, { x: -40, y: -30 })).toBeCloseTo(36.8699, 4);
    expect(elevation({ x: 0, y: 0 }, { x: 40, y: 30 })).toBeCloseTo(-36.8699, 4);
    expect(elevation({ x: 1, y: 1 }, { x: 1, y: 1 })).toBeNaN();
  });

  it('leanFromVertical is signed by the given direction', () => {
    const base = { x: 0, y: 100 };
    const top = { x: 30, y: 60 }; // 30 right, 40 up
    expect(leanFromVertical(base, top, 1)).toBeCloseTo(36.8699, 4);
    expect(leanFromVertical(base, top, -1)).toBeCloseTo(-36.8699, 4);
  });

  it('midpoint and distance', () => {
    expect(midpoint({ x: 0, y: 0 }, { x: 6, y: 8 })).toEqual({ x: 3, y: 4 });
    expect(distance({ x: 0, y: 0 }, { x: 6, y: 8 })).toBe(10);
  });
});
