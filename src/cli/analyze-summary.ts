// summary.csv of a batch: one row per input, ok or not, so a coach can sort and filter a folder of clips in a
// spreadsheet. The measurement columns are every measurement the profile can report, in any view, with the unit
// in the name (`knee_angle_deg`, `leg_spread_cm`): rows of front and side clips line up, and a blank is "not
// measured", never zero.
import { csvCell } from '../analysis/frames-csv.ts';
import type { DetailedResult } from '../analysis/view-analysis.ts';
import { measurementUnits } from '../posture/evaluate-view.ts';
import { getProfile } from '../posture/index.ts';

export interface SummaryRow {
  file: string;
  /** `ok`, `nobody found`, or `error: <message>`. */
  status: string;
  result?: DetailedResult;
}

const FIXED_COLUMNS = ['file', 'status', 'file_type', 'view', 'detected_view', 'frames_analysed', 'frames_with_subject', 'overall_score'];

export function summaryCsv(profile: string, rows: readonly SummaryRow[]): string {
  const units = Object.entries(measurementUnits(getProfile(profile)));
  const header = [...FIXED_COLUMNS, ...units.map(([name, unit]) => `${name}_${unit === '°' ? 'deg' : 'cm'}`)];
  const lines = rows.map(({ file, status, result: r }) => [
    file, status, r?.file_type, r?.view, r?.detected_view, r?.processed_frames,
    r?.frames_data.filter((f) => f.keypoints).length, r?.aggregated_results.overall_score,
    ...units.map(([name]) => r?.aggregated_results.measurements[name]),
  ]);
  return [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
