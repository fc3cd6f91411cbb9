// Scoring functions shared by every profile: a metric's sub-score is a band applied to its measurement.

/**
 * The studio's scoring ramp (SPEC 5): d = |v − opt|; 1 if d ≤ tol; 0 if d ≥ lim; else 1 − (d − tol)/(lim − tol).
 */
export function linear(v: number, opt: number, tol: number, lim: number): number {
  const d = Math.abs(v - opt);
  if (d <= tol) return 1;
  if (d >= lim) return 0;
  return 1 - (d - tol) / (lim - tol);
}

/**
 * A trapezoid: full score inside [idealMin, idealMax], falling linearly to 0 at zeroBelow / zeroAbove.
 * Open ends use ±Infinity. One shape covers both `linear` and the studio's "1 inside [a, b]" bands, so feedback
 * can quote the target range from the same data that scores.
 */
export interface Band {
  readonly idealMin: number;
  readonly idealMax: number;
  readonly zeroBelow: number;
  readonly zeroAbove: number;
}

/** Band equal to `linear(v, opt, tol, lim)`. */
export function linearBand(opt: number, tol: number, lim: number): Band {
  return { idealMin: opt - tol, idealMax: opt + tol, zeroBelow: opt - lim, zeroAbove: opt + lim };
}

export function rangeBand(idealMin: number, idealMax: number, zeroBelow: number, zeroAbove: number): Band {
  return { idealMin, idealMax, zeroBelow, zeroAbove };
}

/** Sub-score in [0, 1] of `v` under `band`. */
export function scoreBand(v: number, band: Band): number {
  if (v >= band.idealMin && v <= band.idealMax) return 1;
  if (v < band.idealMin) {
    if (v <= band.zeroBelow) return 0;
    return 1 - (band.idealMin - v) / (band.idealMin - band.zeroBelow);
  }
  if (v >= band.zeroAbove) return 0;
  return 1 - (v - band.idealMax) / (band.zeroAbove - band.idealMax);
}

/** Where `v` sits against the band's ideal range; feedback picks its words from this. */
export function bandDirection(v: number, band: Band): 'low' | 'ideal' | 'high' {
  if (v < band.idealMin) return 'low';
  if (v > band.idealMax) return 'high';
  return 'ideal';
}

/** Half-away-from-zero rounding to `decimals` places, with the binary-fraction error nudged out (1.005 → 1.01). */
export function round(v: number, decimals = 2): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(v) * f * (1 + Number.EPSILON)) / f;
  return v < 0 ? -r || 0 : r;
}

function formatNumber(v: number): string {
  return String(round(v, 1));
}

/** The band's ideal range as text, e.g. "150 to 170°", "at least 50°", "-3.1 to 3.1 cm". */
export function formatRange(band: Band, units: string): string {
  const u = units === '°' ? '°' : ` ${units}`;
  if (!Number.isFinite(band.idealMax)) return `at least ${formatNumber(band.idealMin)}${u}`;
  if (!Number.isFinite(band.idealMin)) return `at most ${formatNumber(band.idealMax)}${u}`;
  return `${formatNumber(band.idealMin)} to ${formatNumber(band.idealMax)}${u}`;
}

export function formatValue(v: number, units: string): string {
  return units === '°' ? `${formatNumber(v)}°` : `${formatNumber(v)} ${units}`;
}

/** Mean of the middle values after dropping `trim` of them at each end: a robust mean that still uses most data. */
export function trimmedMean(values: readonly number[], trim = 0.2): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const k = Math.floor(sorted.length * trim);
  const kept = sorted.slice(k, sorted.length - k);
  return kept.reduce((s, v) => s + v, 0) / kept.length;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
