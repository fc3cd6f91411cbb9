// Small formatting rules shared by the studio pages: pure, so they are unit-tested from Node.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A fresh upload session id (the API wants 1 to 64 of A-Z a-z 0-9 _ -, unique per user). */
export function newSessionId(now = Date.now(), random = Math.random): string {
  return `web-${now.toString(36)}-${Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0')}`;
}

export type ScoreBand = 'good' | 'fair' | 'poor';

/** Bands of a 0-100 score, matching the API's feedback: full marks from 90, a critique below 50. */
export function scoreBand(percent: number): ScoreBand {
  if (percent >= 90) return 'good';
  if (percent >= 50) return 'fair';
  return 'poor';
}

export const BAND_LABEL: Record<ScoreBand, string> = { good: 'Good', fair: 'Fair', poor: 'Needs work' };

export function viewTitle(view: string): string {
  return `${view[0]?.toUpperCase() ?? ''}${view.slice(1)} view`;
}

export function formatValue(value: number, units: string): string {
  const rounded = Math.round(value * 10) / 10;
  return units === '°' ? `${rounded}°` : `${rounded} ${units}`;
}
