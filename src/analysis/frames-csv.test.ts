import { describe, expect, it } from 'vitest';
import { measuredFrame, syntheticDetailedResult, syntheticKeypoints } from './detailed-result.test-helper.ts';
import { framesCsv } from './frames-csv.ts';

/** Splits one CSV line on commas outside quotes (enough for these cells: no line breaks inside). */
function cells(line: string): string[] {
  return line.match(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)!.slice(0, -1).map((cell) => cell.replace(/,$/, ''));
}

describe('framesCsv formula neutralisation', () => {
  it('prefixes a quote to text cells a spreadsheet would evaluate, and leaves numbers as numbers', () => {
    const measurements = { '=HYPERLINK("http://x","y")': 1, '+1': 2, '-x': 3, '@SUM(A1)': 4, '\tcmd': 5, safe_angle: -7.5 };
    const csv = framesCsv(syntheticDetailedResult([measuredFrame(0, 0, syntheticKeypoints(), measurements)]));
    const [header, row] = csv.split('\r\n').map(cells);
    expect(header).toEqual(expect.arrayContaining([
      `"'=HYPERLINK(""http://x"",""y"")"`, "'+1", "'-x", "'@SUM(A1)", "'\tcmd", 'safe_angle',
    ]));
    for (const cell of header!) expect(cell, 'no cell may start a formula').not.toMatch(/^"?[=+\-@\t\r]/);
    expect(row![header!.indexOf('safe_angle')]).toBe('-7.5');
  });
});
