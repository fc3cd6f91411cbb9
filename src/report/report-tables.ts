// The report's two tables: a view's measures (value, normal range with its numbered source, sub-score bar) and the
// comparison with the person's previous assessment. Rows never split across pages; a header repeats on a new page.
import { bandColour, clampPercent, formatDate, reportText } from './report-text.ts';
import { BAD, bottomLimit, contentWidth, GOOD, INK, MARGIN, MUTED, RULE, sectionTitle, TRACK, type Doc } from './report-page.ts';
import type { ReportComparison, ReportMetric } from './pdf-report.ts';

interface Column {
  title: string;
  /** Offset from the left margin and width, in points. */
  x: number;
  width: number;
  align?: 'left' | 'right';
}

const BODY_SIZE = 9;

/** Draws the column titles and a rule under them. */
function header(doc: Doc, columns: readonly Column[]): void {
  const y = doc.y;
  doc.font('Helvetica-Bold').fontSize(7.5).fillColor(MUTED);
  for (const c of columns) doc.text(c.title, MARGIN + c.x, y, { width: c.width, align: c.align ?? 'left', lineBreak: false });
  doc.moveTo(MARGIN, y + 11).lineTo(MARGIN + contentWidth(doc), y + 11).lineWidth(0.5).strokeColor(RULE).stroke();
  doc.y = y + 16;
}

/** Room for a row of these cells, starting a new page (and repeating the header) when it does not fit. */
function startRow(doc: Doc, columns: readonly Column[], cells: readonly string[]): number {
  doc.font('Helvetica').fontSize(BODY_SIZE);
  const height = Math.max(12, ...cells.map((text, i) => doc.heightOfString(text, { width: columns[i]!.width }))) + 7;
  if (doc.y + height > bottomLimit(doc)) {
    doc.addPage();
    doc.y = MARGIN;
    header(doc, columns);
  }
  return height;
}

function endRow(doc: Doc, top: number, height: number): void {
  doc.moveTo(MARGIN, top + height - 4).lineTo(MARGIN + contentWidth(doc), top + height - 4).lineWidth(0.5).strokeColor(TRACK).stroke();
  doc.x = MARGIN;
  doc.y = top + height;
}

/**
 * The measures of one view, under the line saying where its centimetres come from (`scale`). Each normal range is
 * followed by the number of its source, and the sources are listed once under the table: a profile cites the same
 * reference for many measures.
 */
export function drawMeasuresTable(doc: Doc, metrics: readonly ReportMetric[], scale: string | undefined): void {
  const width = contentWidth(doc);
  const bar = { x: 392, width: width - 392 - 36 };
  const columns: Column[] = [
    { title: 'MEASURE', x: 0, width: 118 },
    { title: 'VALUE', x: 124, width: 92 },
    { title: 'NORMAL RANGE [SOURCE]', x: 222, width: 162 },
    { title: 'SUB-SCORE', x: bar.x, width: width - bar.x, align: 'right' },
  ];
  sectionTitle(doc, 'Measures', 60);
  if (scale) {
    doc.font('Helvetica').fontSize(8.5).fillColor(INK).text(reportText(scale, 300), MARGIN, doc.y, { width });
    doc.y += 4;
  }
  header(doc, columns);
  if (metrics.length === 0) {
    doc.font('Helvetica').fontSize(BODY_SIZE).fillColor(MUTED).text('No measure could be taken for this view.', MARGIN, doc.y);
    doc.y += 6;
    return;
  }
  const sources: string[] = [];
  for (const metric of metrics) {
    const source = reportText(metric.source, 400);
    if (source && !sources.includes(source)) sources.push(source);
    const note = source ? ` [${sources.indexOf(source) + 1}]` : '';
    const cells = [reportText(metric.label || metric.name, 120), reportText(metric.measured, 120), `${reportText(metric.normalRange, 240)}${note}`];
    const height = startRow(doc, columns, cells);
    const y = doc.y;
    // Rounded once: the bar's colour and the printed number must agree (79.5 shows as 80 and is green).
    const percent = Math.round(clampPercent(metric.percent));
    doc.font('Helvetica').fontSize(BODY_SIZE).fillColor(INK).text(cells[0]!, MARGIN + columns[0]!.x, y, { width: columns[0]!.width });
    doc.font('Helvetica-Bold').text(cells[1]!, MARGIN + columns[1]!.x, y, { width: columns[1]!.width });
    doc.font('Helvetica').fillColor(MUTED).text(cells[2]!, MARGIN + columns[2]!.x, y, { width: columns[2]!.width });
    doc.roundedRect(MARGIN + bar.x, y + 1, bar.width, 8, 4).fill(TRACK);
    if (percent > 0) doc.roundedRect(MARGIN + bar.x, y + 1, Math.max(8, bar.width * percent / 100), 8, 4).fill(bandColour(percent));
    doc.font('Helvetica-Bold').fontSize(BODY_SIZE).fillColor(bandColour(percent))
      .text(`${percent}%`, MARGIN + bar.x + bar.width, y, { width: width - bar.x - bar.width, align: 'right', lineBreak: false });
    endRow(doc, y, height);
  }
  drawSources(doc, sources);
}

function drawSources(doc: Doc, sources: readonly string[]): void {
  doc.font('Helvetica').fontSize(7).fillColor(MUTED);
  for (const [i, source] of sources.entries()) {
    const text = `[${i + 1}] ${source}`;
    const height = doc.heightOfString(text, { width: contentWidth(doc) });
    if (doc.y + height > bottomLimit(doc)) {
      doc.addPage();
      doc.y = MARGIN;
      doc.font('Helvetica').fontSize(7).fillColor(MUTED);
    }
    doc.text(text, MARGIN, doc.y, { width: contentWidth(doc) });
    doc.y += 1;
  }
  doc.x = MARGIN;
  doc.y += 8;
}

/** This view beside the same view of the person's previous assessment: its score, then each measure. */
export function drawComparisonTable(doc: Doc, comparison: ReportComparison, current: number, previousDate: Date | string | undefined): void {
  const width = contentWidth(doc);
  const columns: Column[] = [
    { title: 'MEASURE', x: 0, width: 190 },
    { title: 'PREVIOUS', x: 196, width: 96, align: 'right' },
    { title: 'THIS ASSESSMENT', x: 298, width: 96, align: 'right' },
    { title: 'CHANGE', x: 400, width: width - 400, align: 'right' },
  ];
  const when = previousDate === undefined ? '' : ` of ${formatDate(previousDate)}`;
  sectionTitle(doc, `Compared with the previous assessment${when}`, 50);
  header(doc, columns);
  const score = Math.round(clampPercent(current));
  const before = comparison.previousScore === null ? null : Math.round(clampPercent(comparison.previousScore));
  const rows = [
    { label: 'View score (0 to 100)', previous: before === null ? '-' : String(before), current: String(score),
      change: before === null ? '-' : signedPoints(score - before), colour: before === null ? MUTED : trendColour(score - before) },
    ...comparison.rows.map((row) => ({
      label: reportText(row.label, 120), previous: reportText(row.previous, 40), current: reportText(row.current, 40),
      change: reportText(row.change, 40),
      colour: row.trend === 'better' ? GOOD : row.trend === 'worse' ? BAD : MUTED,
    })),
  ];
  for (const row of rows) {
    const cells = [row.label, row.previous, row.current, row.change];
    const height = startRow(doc, columns, cells);
    const y = doc.y;
    cells.forEach((text, i) => {
      const column = columns[i]!;
      doc.font(i === 3 ? 'Helvetica-Bold' : 'Helvetica').fontSize(BODY_SIZE).fillColor(i === 3 ? row.colour : i === 1 ? MUTED : INK)
        .text(text, MARGIN + column.x, y, { width: column.width, align: column.align ?? 'left' });
    });
    endRow(doc, y, height);
  }
  doc.font('Helvetica').fontSize(7).fillColor(MUTED)
    .text('Change: green where the sub-score improved, red where it fell.', MARGIN, doc.y, { width });
  doc.x = MARGIN;
  doc.y += 8;
}

export function signedPoints(delta: number): string {
  return delta > 0 ? `+${delta}` : String(delta);
}

function trendColour(delta: number): string {
  return delta > 0 ? GOOD : delta < 0 ? BAD : MUTED;
}
