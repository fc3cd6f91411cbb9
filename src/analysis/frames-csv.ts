import { KEYPOINT_NAMES } from '../posture/index.ts';
import type { DetailedResult } from './view-analysis.ts';

/**
 * The per-frame series of one view as CSV: time, every keypoint (x, y, score) and every measurement, one row
 * per analysed frame; a frame without the subject keeps its row with every cell after the time empty (a gap,
 * not zeros). Spreadsheet formula injection is defused by quoting cells that start with = + - @.
 */
export function framesCsv(detailed: DetailedResult): string {
  const measurementNames = [...new Set(detailed.frames_data.flatMap((f) => Object.keys(f.measurements ?? {})))].sort();
  const header = ['frame_index', 'time_s',
    ...KEYPOINT_NAMES.flatMap((n) => [`${n}_x`, `${n}_y`, `${n}_score`]),
    ...measurementNames, 'overall_score'];
  const rows = detailed.frames_data.map((f) => [
    f.frame_index, f.timestamp,
    ...KEYPOINT_NAMES.flatMap((_, i): Array<string | number> => f.keypoints?.[i] ?? ['', '', '']),
    ...measurementNames.map((n) => f.measurements?.[n] ?? ''),
    f.score?.overall_score ?? '',
  ]);
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

function cell(value: unknown): string {
  const text = String(value);
  if (typeof value === 'number') return text;
  const needsQuotes = /[",\r\n]/.test(text) || /^[=+\-@]/.test(text);
  return needsQuotes ? `"${text.replace(/"/g, '""')}"` : text;
}
