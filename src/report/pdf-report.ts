import PDFDocument from 'pdfkit';
import { drawPicture, reportPicture, type ReportPicture } from './report-pictures.ts';
import { ACCENT, BAD, bottomLimit, capitalize, contentWidth, ensureSpace, GOOD, INK, MARGIN, MUTED, RULE, sectionTitle, type Doc } from './report-page.ts';
import { drawComparisonTable, drawMeasuresTable, signedPoints } from './report-tables.ts';
import { bandColour, clampPercent, formatDate, reportText } from './report-text.ts';

export { REPORT_PICTURE_MAX_SIDE } from './report-pictures.ts';

export interface ReportMetric {
  name: string;
  label: string;
  /** The measured value(s) with units: `12.3°`, `left 1.2 cm, right 2.0 cm`. */
  measured: string;
  /** The normal range, with units, as the profile states it. */
  normalRange: string;
  /** Where the normal range comes from; listed once per view under the table, numbered. */
  source?: string;
  /** Sub-score, 0 to 100. */
  percent: number;
}

export interface ReportFeedback {
  metric: string;
  commendation?: string;
  critique?: string;
  suggestions: string[];
}

/** One measurement now and at the previous assessment, the change formatted with its units (`+2.1°`). */
export interface ReportComparisonRow {
  label: string;
  previous: string;
  current: string;
  change: string;
  /** How the measure's sub-score moved, which colours the change; absent: unknown. */
  trend?: 'better' | 'worse' | 'same';
}

/** A view beside the same view of the person's previous assessment. */
export interface ReportComparison {
  /** That view's score then, 0 to 100. */
  previousScore: number | null;
  rows: ReportComparisonRow[];
}

export interface ReportView {
  view: string;
  detected_view: string;
  /** 0 to 100. */
  overall_score: number;
  metrics: ReportMetric[];
  feedback: ReportFeedback[];
  /** PNG or JPEG of the analysed frame with the skeleton drawn on it. */
  overlayPng?: Buffer;
  /** Printed under the picture: which frame it shows and how its numbers relate to the measures table. */
  overlayCaption?: string;
  /** Where the view's centimetres come from (one line); given when a measure is in cm. */
  scale?: string;
  /** A video's measures over time, drawn under the measures table. */
  chartPng?: Buffer;
  /** Given when the person's previous assessment has this view. */
  comparison?: ReportComparison;
  warnings: string[];
}

/** The person assessed; each field null when not given at upload. */
export interface ReportSubject {
  name: string | null;
  birthDate: string | null;
  /** At the assessment, in whole years. */
  age: number | null;
  heightCm: number | null;
  notes: string | null;
}

export interface AnalysisReportInput {
  analysis: {
    id: string;
    session_id: string;
    model_name: string;
    profile: string;
    created_at: Date | string;
    finished_at?: Date | string | null;
  };
  /** The account holder: named only as the one the report was prepared by, never as the person assessed. */
  user: { name: string; email: string };
  subject?: ReportSubject;
  /** The summary sentence(s) of the result. */
  summary: string;
  /** Mean of the view scores, 0 to 100. */
  overall_score?: number | null;
  /** The person's previous assessment, when there is one. */
  previous?: { created_at: Date | string; session_id: string; overall_score: number | null };
  views: ReportView[];
}

export interface RenderOptions {
  /** Deflate page contents (default true); tests turn it off to read the drawn text. */
  compress?: boolean;
}

/** How much room pictures and the space between sections take: the most generous that leaves no nearly empty page. */
interface Layout {
  /** Largest height of a view's picture, and of its chart, in points. */
  picture: number;
  chart: number;
  /** Multiplies the space between sections. */
  gap: number;
}

/** Tried in turn until the last page is not left nearly empty. */
const LAYOUTS: readonly Layout[] = [
  { picture: 300, chart: 440, gap: 1 },
  { picture: 250, chart: 380, gap: 0.8 },
  { picture: 200, chart: 320, gap: 0.6 },
  { picture: 160, chart: 270, gap: 0.4 },
];
/**
 * A picture is never drawn smaller than this (a new page instead), nor a chart smaller than CHART_MIN_HEIGHT: a chart
 * stacks a panel per angle (report/angle-charts.ts), so it needs more height than a photo to stay readable.
 */
const PICTURE_MIN_HEIGHT = 150;
const CHART_MIN_HEIGHT = 200;
/** A last page filled less than this (share of its writable height) is worth a tighter layout. */
const MIN_LAST_PAGE_FILL = 0.25;

interface Pictures {
  overlay: ReportPicture | undefined;
  chart: ReportPicture | undefined;
}

/**
 * Renders the report a clinician hands over with pdfkit: the person assessed and the date, a summary, then per view
 * the overlay picture, the measures with normal ranges and their sources, a chart over time for videos, the feedback
 * and the comparison with the person's previous assessment. Sections flow from page to page; pictures shrink (down
 * to a floor) rather than leave a last page nearly empty. Only the built-in Helvetica fonts are used and nothing is
 * loaded from outside; every user-supplied string goes through `reportText`.
 */
export async function renderAnalysisReport(input: AnalysisReportInput, options: RenderOptions = {}): Promise<Buffer> {
  // Prepared before drawing: pdfkit's drawing is synchronous, the re-encoding is not.
  const pictures: Pictures[] = await Promise.all(input.views.map(async (view) => ({
    overlay: await reportPicture(view.overlayPng, 'photo'),
    chart: await reportPicture(view.chartPng, 'chart'),
  })));
  // Each try is a whole layout (pdfkit cannot take pages back); only the one kept is ever serialised. When none
  // fills its last page enough, the fewest pages win, then the fullest last page.
  let best: { doc: Doc; pages: number; fill: number } | undefined;
  for (const layout of LAYOUTS) {
    const doc = newDocument(input, options);
    drawReport(doc, input, pictures, layout);
    const pages = doc.bufferedPageRange().count;
    const fill = (doc.y - MARGIN) / (bottomLimit(doc) - MARGIN);
    if (pages === 1 || fill >= MIN_LAST_PAGE_FILL) return finish(doc, input);
    if (!best || pages < best.pages || (pages === best.pages && fill > best.fill)) best = { doc, pages, fill };
  }
  return finish(best!.doc, input);
}

function newDocument({ analysis }: AnalysisReportInput, options: RenderOptions): Doc {
  return new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    compress: options.compress ?? true,
    info: {
      Title: `Posture assessment report - ${reportText(analysis.session_id, 80)}`,
      Author: 'Postura',
      Subject: `Analysis ${reportText(analysis.id, 80)}`,
      Producer: 'Postura',
      Creator: 'Postura',
    },
  });
}

async function finish(doc: Doc, input: AnalysisReportInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  drawFooters(doc, input);
  doc.end();
  return finished;
}

function drawReport(doc: Doc, input: AnalysisReportInput, pictures: Pictures[], layout: Layout): void {
  drawHeader(doc, input);
  drawSummary(doc, input);
  input.views.forEach((view, i) => drawView(doc, view, pictures[i]!, layout, input.previous?.created_at));
}

/** The person assessed and the date, large; the account only as the small line of who prepared it. */
function drawHeader(doc: Doc, { analysis, user, subject }: AnalysisReportInput): void {
  const width = contentWidth(doc);
  doc.rect(0, 0, doc.page.width, 92).fill(ACCENT);
  doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(22).text('Posture Assessment', MARGIN, 30, { width });
  doc.font('Helvetica').fontSize(10.5).fillColor('#d6eef0')
    .text(`Assessed ${formatDate(analysis.created_at)}`, MARGIN, 60, { width, lineBreak: false });
  doc.y = 110;
  const name = reportText(subject?.name, 100);
  if (name) doc.font('Helvetica-Bold').fontSize(17).fillColor(INK).text(name, MARGIN, doc.y, { width });
  else doc.font('Helvetica').fontSize(12).fillColor(MUTED).text('Person assessed: name not given', MARGIN, doc.y, { width });
  const facts = [
    subject?.age !== null && subject?.age !== undefined
      ? `Age ${subject.age}${subject.birthDate ? ` (born ${reportText(subject.birthDate, 10)})` : ''}` : '',
    subject?.heightCm ? `Height ${subject.heightCm} cm` : '',
  ].filter(Boolean);
  if (facts.length > 0) doc.font('Helvetica').fontSize(11).fillColor(INK).text(facts.join('   ·   '), MARGIN, doc.y + 3, { width });
  const notes = reportText(subject?.notes, 1000);
  if (notes) {
    doc.font('Helvetica-Bold').fontSize(9.5).fillColor(MUTED).text('Notes: ', MARGIN, doc.y + 4, { width, continued: true })
      .font('Helvetica').fillColor(INK).text(notes);
  }
  doc.y += 8;
  const email = reportText(user.email, 200);
  const account = [reportText(user.name, 200), email ? `(${email})` : ''].filter(Boolean).join(' ');
  doc.font('Helvetica').fontSize(7.5).fillColor(MUTED);
  if (account) doc.text(`Prepared by account: ${account}`, MARGIN, doc.y, { width, lineBreak: false, ellipsis: true });
  doc.text(`Session ${reportText(analysis.session_id, 80)}  ·  analysis ${reportText(analysis.id, 80)}  ·  model `
    + `${reportText(analysis.model_name, 40)}, profile ${reportText(analysis.profile, 40)}  ·  finished ${formatDate(analysis.finished_at)}`,
  MARGIN, doc.y + 1, { width });
  doc.moveTo(MARGIN, doc.y + 6).lineTo(MARGIN + width, doc.y + 6).lineWidth(0.5).strokeColor(RULE).stroke();
  doc.x = MARGIN;
  doc.y += 16;
}

/** One paragraph (the summary, the overall score, the change since last time), then a score card per view. */
function drawSummary(doc: Doc, { summary, overall_score: overall, previous, views }: AnalysisReportInput): void {
  const width = contentWidth(doc);
  sectionTitle(doc, 'Summary');
  const sentences = [reportText(summary, 1500)];
  if (overall !== undefined && overall !== null) {
    const each = views.length > 1 ? ` (${views.map((v) => `${reportText(v.view, 20)} ${Math.round(clampPercent(v.overall_score))}`).join(', ')})` : '';
    sentences.push(`Overall score ${Math.round(clampPercent(overall))} of 100${each}.`);
  }
  if (previous) {
    const before = previous.overall_score === null ? null : Math.round(clampPercent(previous.overall_score));
    const change = before !== null && overall !== undefined && overall !== null
      ? `: overall ${before} then, ${Math.round(clampPercent(overall))} now (${signedPoints(Math.round(clampPercent(overall)) - before)})` : '';
    sentences.push(`Compared with the previous assessment of ${formatDate(previous.created_at)} (session ${reportText(previous.session_id, 64)})${change}.`);
  }
  doc.font('Helvetica').fontSize(10.5).fillColor(INK).text(sentences.filter(Boolean).join(' ') || '-', MARGIN, doc.y, { width, lineGap: 1.5 });
  doc.y += 10;
  drawScoreCards(doc, views);
  doc.font('Helvetica').fontSize(7.5).fillColor(MUTED).text(
    'Scores are 0 to 100. Green 80 and above, amber 50 to 79, red below 50. Measures come from body keypoints found by '
    + 'a pose-estimation model, which approximate anatomical landmarks.', MARGIN, doc.y, { width });
  doc.x = MARGIN;
  doc.y += 14;
}

function drawScoreCards(doc: Doc, views: readonly ReportView[]): void {
  if (views.length === 0) return;
  const width = contentWidth(doc);
  const gap = 10;
  const cardWidth = (width - gap * 3) / 4;
  const height = 58;
  ensureSpace(doc, height + 30);
  const top = doc.y;
  views.slice(0, 4).forEach((view, i) => {
    const x = MARGIN + i * (cardWidth + gap);
    const score = Math.round(clampPercent(view.overall_score));
    doc.roundedRect(x, top, cardWidth, height, 5).lineWidth(0.8).strokeColor(RULE).stroke();
    doc.rect(x, top + height - 5, cardWidth * (score / 100), 5).fill(bandColour(score));
    doc.font('Helvetica').fontSize(8.5).fillColor(MUTED)
      .text(`${capitalize(reportText(view.view, 20))} view`, x + 8, top + 7, { width: cardWidth - 16, lineBreak: false, ellipsis: true });
    doc.font('Helvetica-Bold').fontSize(22).fillColor(bandColour(score)).text(String(score), x + 8, top + 19, { width: 50, lineBreak: false });
    const before = view.comparison?.previousScore;
    if (before !== undefined && before !== null) {
      const was = Math.round(clampPercent(before));
      doc.font('Helvetica').fontSize(8).fillColor(MUTED)
        .text(`was ${was} (${signedPoints(score - was)})`, x + 58, top + 28, { width: cardWidth - 64, lineBreak: false, ellipsis: true });
    }
  });
  doc.x = MARGIN;
  doc.y = top + height + 6;
  if (views.length > 4) {
    doc.font('Helvetica').fontSize(8).fillColor(MUTED).text(`${views.length - 4} more views follow.`, MARGIN, doc.y);
  }
}

function drawView(doc: Doc, view: ReportView, pictures: Pictures, layout: Layout, previousDate: Date | string | undefined): void {
  const width = contentWidth(doc);
  const score = Math.round(clampPercent(view.overall_score));
  // The title stays with the picture (or the first rows of the table when there is none).
  ensureSpace(doc, 40 + (pictures.overlay ? PICTURE_MIN_HEIGHT : 80));
  const top = doc.y;
  doc.moveTo(MARGIN, top).lineTo(MARGIN + width, top).lineWidth(1.5).strokeColor(ACCENT).stroke();
  doc.font('Helvetica-Bold').fontSize(15).fillColor(INK)
    .text(`${capitalize(reportText(view.view, 20))} view`, MARGIN, top + 8, { width: width - 110, lineBreak: false, ellipsis: true });
  doc.font('Helvetica').fontSize(8.5).fillColor(MUTED)
    .text(`Detected view: ${reportText(view.detected_view, 20) || '-'}`, MARGIN, top + 27, { width: width - 110, lineBreak: false });
  doc.roundedRect(MARGIN + width - 96, top + 6, 96, 30, 5).fill(bandColour(score));
  doc.font('Helvetica-Bold').fontSize(15).fillColor('#ffffff').text(String(score), MARGIN + width - 96, top + 9, { width: 96, align: 'center', lineBreak: false });
  doc.font('Helvetica').fontSize(6.5).text('VIEW SCORE', MARGIN + width - 96, top + 26, { width: 96, align: 'center', lineBreak: false });
  doc.x = MARGIN;
  doc.y = top + 44;

  drawOverlay(doc, view, pictures.overlay, layout);
  if (view.warnings.length > 0) drawWarnings(doc, view.warnings);
  drawMeasuresTable(doc, view.metrics, view.scale);
  if (pictures.chart) {
    sectionTitle(doc, 'Over time', CHART_MIN_HEIGHT);
    drawPicture(doc, pictures.chart, { maxHeight: layout.chart, minHeight: CHART_MIN_HEIGHT, keepBelow: 0 });
    doc.y += 8 * layout.gap;
  }
  drawFeedback(doc, view, layout);
  if (view.comparison) drawComparisonTable(doc, view.comparison, view.overall_score, previousDate);
  doc.y += 10 * layout.gap;
}

function drawOverlay(doc: Doc, view: ReportView, picture: ReportPicture | undefined, layout: Layout): void {
  const width = contentWidth(doc);
  const caption = reportText(view.overlayCaption, 400);
  doc.font('Helvetica').fontSize(8);
  const captionHeight = caption ? doc.heightOfString(caption, { width }) + 4 : 0;
  const drawn = picture !== undefined
    && drawPicture(doc, picture, { maxHeight: layout.picture, minHeight: PICTURE_MIN_HEIGHT, keepBelow: captionHeight });
  if (!drawn) {
    doc.font('Helvetica').fontSize(9).fillColor(MUTED).text('No overlay picture available for this view.', MARGIN, doc.y, { width });
  } else if (caption) {
    doc.font('Helvetica').fontSize(8).fillColor(MUTED).text(caption, MARGIN, doc.y, { width, align: 'center' });
  }
  doc.x = MARGIN;
  doc.y += 8 * layout.gap;
}

function drawWarnings(doc: Doc, warnings: string[]): void {
  const width = contentWidth(doc);
  for (const warning of warnings.slice(0, 10)) {
    const text = reportText(warning, 400);
    doc.font('Helvetica').fontSize(8.5);
    const height = doc.heightOfString(text, { width: width - 24 }) + 8;
    ensureSpace(doc, height);
    const top = doc.y;
    doc.rect(MARGIN, top, width, height).fill('#fff4e0');
    doc.rect(MARGIN, top, 3, height).fill('#e0a21b');
    doc.fillColor('#7a4d00').text(text, MARGIN + 12, top + 4, { width: width - 24 });
    doc.x = MARGIN;
    doc.y = top + height + 3;
  }
  doc.y += 6;
}

/**
 * One line per measure, marked green (within its normal range) or red (what to change), its suggestions as bullets
 * under it. Each line names its own view, measure and value (posture/feedback.ts), so no label is added here.
 */
function drawFeedback(doc: Doc, view: ReportView, layout: Layout): void {
  const width = contentWidth(doc) - 14;
  const lines = view.feedback.flatMap((item) => {
    const text = reportText(item.critique ?? item.commendation, 2000);
    return text ? [{ text, critique: item.critique !== undefined, suggestions: item.suggestions.slice(0, 12).map((s) => `•  ${reportText(s, 600)}`) }] : [];
  });
  if (lines.length === 0) return;
  sectionTitle(doc, 'Feedback');
  for (const line of lines) {
    doc.font('Helvetica').fontSize(9.5);
    const first = line.suggestions[0] ? doc.heightOfString(line.suggestions[0], { width: width - 12 }) : 0;
    ensureSpace(doc, doc.heightOfString(line.text, { width }) + first);
    doc.circle(MARGIN + 4, doc.y + 5, 3).fill(line.critique ? BAD : GOOD);
    doc.font('Helvetica').fontSize(9.5).fillColor(INK).text(line.text, MARGIN + 14, doc.y, { width });
    for (const suggestion of line.suggestions) {
      doc.fontSize(9);
      ensureSpace(doc, doc.heightOfString(suggestion, { width: width - 12 }));
      doc.fillColor(INK).text(suggestion, MARGIN + 26, doc.y, { width: width - 12 });
    }
    doc.x = MARGIN;
    doc.y += 4 * layout.gap;
  }
  doc.y += 6 * layout.gap;
}

/** Page numbers need the final page count, so they are drawn last on the buffered pages. */
function drawFooters(doc: Doc, { analysis, subject }: AnalysisReportInput): void {
  const range = doc.bufferedPageRange();
  const who = reportText(subject?.name, 60);
  const label = `Postura posture assessment  ·  ${who ? `${who}  ·  ` : ''}session ${reportText(analysis.session_id, 64)}`;
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const y = doc.page.height - MARGIN + 6;
    // Drawing below the bottom margin would make pdfkit add a page: lift the margin while writing the footer.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.moveTo(MARGIN, y - 6).lineTo(doc.page.width - MARGIN, y - 6).lineWidth(0.5).strokeColor(RULE).stroke();
    doc.font('Helvetica').fontSize(7.5).fillColor(MUTED)
      .text(label, MARGIN, y, { width: contentWidth(doc) - 80, lineBreak: false, ellipsis: true })
      .text(`Page ${i + 1 - range.start} of ${range.count}`, doc.page.width - MARGIN - 80, y, { width: 80, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}
