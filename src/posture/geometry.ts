// Plane geometry in image coordinates: x grows to the right, y grows DOWNWARD, so "up" is -y.

export interface Point {
  readonly x: number;
  readonly y: number;
}

const DEG_PER_RAD = 180 / Math.PI;

export function toDegrees(radians: number): number {
  return radians * DEG_PER_RAD;
}

export function midpoint(a: Point, b: Point): Point {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** A point `length` pixels straight above `p`: the reference for "angle from vertical" measures. */
export function pointAbove(p: Point, length = 1): Point {
  return { x: p.x, y: p.y - length };
}

/** A point `length` pixels to the right of `p`: the reference for "angle from horizontal" measures. */
export function pointRight(p: Point, length = 1): Point {
  return { x: p.x + length, y: p.y };
}

/**
 * Interior angle at `b` between rays b→a and b→c, in degrees [0, 180]; NaN when a ray has zero length.
 * atan2(|cross|, dot) stays accurate near 0° and 180°, where acos loses precision.
 */
export function angle(a: Point, b: Point, c: Point): number {
  const ux = a.x - b.x;
  const uy = a.y - b.y;
  const vx = c.x - b.x;
  const vy = c.y - b.y;
  if ((ux === 0 && uy === 0) || (vx === 0 && vy === 0)) return Number.NaN;
  return toDegrees(Math.atan2(Math.abs(ux * vy - uy * vx), ux * vx + uy * vy));
}

/** Unsigned angle in degrees [0, 180] between straight up and the ray from → to (0 = `to` directly above). */
export function angleFromVertical(from: Point, to: Point): number {
  return angle(pointAbove(from), from, to);
}

/**
 * Signed elevation in degrees of `to` seen from `from` against the true horizontal, ignoring left/right:
 * positive when `to` is higher in the picture, in (-90, 90]; NaN when the points coincide.
 */
export function elevation(from: Point, to: Point): number {
  const dx = Math.abs(to.x - from.x);
  const rise = from.y - to.y;
  if (dx === 0 && rise === 0) return Number.NaN;
  return toDegrees(Math.atan2(rise, dx));
}

/**
 * Signed lean in degrees of the segment base → top against the true vertical: positive when `top` lies toward
 * `+direction` on the x axis (direction = +1 for image right, -1 for image left). NaN when the points coincide.
 */
export function leanFromVertical(base: Point, top: Point, direction: 1 | -1): number {
  const dx = (top.x - base.x) * direction;
  const up = base.y - top.y;
  if (dx === 0 && up === 0) return Number.NaN;
  return toDegrees(Math.atan2(dx, up));
}
