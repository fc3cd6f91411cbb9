import { KEYPOINT_NAMES } from '../posture/index.ts';
import type { DetailedResult } from './view-analysis.ts';

/**
 * The per-frame series of one view as CSV: time, every keypoint (x, y, score) and every measurement, one row
 * per analysed frame; a frame without the subject keeps its row with every cell after the time empty (a gap,
 * not zeros). Quoting alone does not stop a spreadsheet from evaluating a text cell that starts with = + - @ (or a
 * tab or CR it strips first), so such a cell gets a leading single quote as OWASP's CSV injection advice says, and
 * is then quoted as CSV requires. Numbers are written as they are: a negative one is a number, not a formula.
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
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * One CSV cell. Free text starting with = + - @ (or a tab or carriage return) would run as a formula in a
 * spreadsheet, so it gets a leading apostrophe, the mark spreadsheets read as "text"; numbers stay numbers; a
 * missing value is an empty cell.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
