import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { MAX_IMAGE_PIXELS } from '../pose/media-limits.ts';
import { bandColour, clampPercent, formatDate, reportText } from './report-text.ts';

export interface ReportMetric {
  name: string;
  label: string;
  measured: string;
  target: string;
  /** Sub-score, 0 to 100. */
  percent: number;
}

export interface ReportFeedback {
  metric: string;
  commendation?: string;
  critique?: string;
  suggestions: string[];
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
  /** Printed under the picture: which frame it shows and how its numbers relate to the metric table. */
  overlayCaption?: string;
  warnings: string[];
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
  user: { name: string; email: string };
  /** The one-line summary ("Good posture with minor improvements needed."). */
  summary: string;
  views: ReportView[];
}

export interface RenderOptions {
  /** Deflate page contents (default true); tests turn it off to read the drawn text. */
  compress?: boolean;
}

type Doc = PDFKit.PDFDocument;

const MARGIN = 48;
const INK = '#1f2933';
const MUTED = '#667085';
const RULE = '#d0d5dd';
const ACCENT = '#12626b';
const TRACK = '#eaecf0';

/**
 * Renders the analysis report with pdfkit: a cover with the metadata and scores, then one section per view with
 * the overlay picture, the metric table with score bars and the feedback. Only the built-in Helvetica fonts are
 * used and nothing is loaded from outside; every user-supplied string goes through `reportText`.
 */
export async function renderAnalysisReport(input: AnalysisReportInput, options: RenderOptions = {}): Promise<Buffer> {
  const { analysis, user } = input;
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    compress: options.compress ?? true,
    info: {
      Title: `Posture analysis report - ${reportText(analysis.session_id, 80)}`,
      Author: 'Postura',
      Subject: `Analysis ${reportText(analysis.id, 80)}`,
      Producer: 'Postura',
      Creator: 'Postura',
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  // Prepared before drawing: pdfkit's drawing is synchronous, the re-encoding is not.
  const pictures = await Promise.all(input.views.map((view) => reportPicture(view.overlayPng)));
  drawCover(doc, input);
  input.views.forEach((view, i) => {
    doc.addPage();
    drawView(doc, view, pictures[i]);
  });
  drawFooters(doc, reportText(analysis.session_id, 80), reportText(user.email, 120));
  doc.end();
  return finished;
}

function contentWidth(doc: Doc): number {
  return doc.page.width - 2 * MARGIN;
}

function bottomLimit(doc: Doc): number {
  return doc.page.height - MARGIN - 24; // room for the footer
}

/** Starts a new page when `height` more points would not fit above the footer. */
function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > bottomLimit(doc)) doc.addPage();
}

function drawCover(doc: Doc, { analysis, user, summary, views }: AnalysisReportInput): void {
  const width = contentWidth(doc);
  doc.rect(0, 0, doc.page.width, 120).fill(ACCENT);
  doc.fillColor('#ffffff').font('Helvetica-Bold').fontSize(24).text('Posture Analysis Report', MARGIN, 42, { width });
  doc.font('Helvetica').fontSize(11).fillColor('#d6eef0')
    .text(`Session ${reportText(analysis.session_id, 80)}`, MARGIN, 76, { width, lineBreak: false, ellipsis: true });
  doc.y = 150;

  const rows: Array<[string, string]> = [
    ['Name', reportText(user.name, 200)],
    ['Email', reportText(user.email, 200)],
    ['Session', reportText(analysis.session_id, 200)],
    ['Analysis', reportText(analysis.id, 200)],
    ['Model', reportText(analysis.model_name, 100)],
    ['Profile', reportText(analysis.profile, 100)],
    ['Created', formatDate(analysis.created_at)],
    ['Finished', formatDate(analysis.finished_at)],
  ];
  doc.x = MARGIN;
  sectionTitle(doc, 'Details');
  for (const [label, value] of rows) {
    const y = doc.y;
    doc.font('Helvetica').fontSize(10).fillColor(MUTED).text(label, MARGIN, y, { width: 90 });
    doc.font('Helvetica').fillColor(INK).text(value || '-', MARGIN + 100, y, { width: width - 100 });
    doc.y = Math.max(doc.y, y + 14) + 4;
  }

  doc.moveDown(1);
  sectionTitle(doc, 'Summary');
  doc.font('Helvetica').fontSize(12).fillColor(INK).text(reportText(summary, 500) || '-', MARGIN, doc.y, { width });
  doc.moveDown(1);

  // One score card per view.
  const cardWidth = (width - 12 * 3) / 4;
  ensureSpace(doc, 80);
  const top = doc.y;
  views.slice(0, 4).forEach((view, i) => {
    const x = MARGIN + i * (cardWidth + 12);
    const score = Math.round(clampPercent(view.overall_score));
    doc.roundedRect(x, top, cardWidth, 72, 6).lineWidth(1).strokeColor(RULE).stroke();
    doc.rect(x, top + 66, cardWidth * (score / 100), 6).fill(bandColour(score));
    doc.font('Helvetica').fontSize(9).fillColor(MUTED)
      .text(`${capitalize(reportText(view.view, 20))} view`, x + 10, top + 10, { width: cardWidth - 20, lineBreak: false, ellipsis: true });
    doc.font('Helvetica-Bold').fontSize(26).fillColor(bandColour(score))
      .text(String(Math.round(score)), x + 10, top + 26, { width: cardWidth - 20, continued: false });
  });
  if (views.length > 4) {
    doc.font('Helvetica').fontSize(9).fillColor(MUTED).text(`${views.length - 4} more views follow.`, MARGIN, top + 80);
  }
  doc.y = top + 96;
  doc.x = MARGIN;
  doc.font('Helvetica').fontSize(9).fillColor(MUTED).text(
    'Scores are 0 to 100 per view. Bars: green 80 and above, amber 50 to 79, red below 50. Angles are measured ' +
    'from body keypoints found by a pose-estimation model, which approximate anatomical landmarks.',
    MARGIN, doc.y, { width },
  );
}

/**
 * Longest side, in px, of a picture embedded in the report. The picture box is about 500 × 235 pt, so 1200 px is
 * near 170 dpi across it: sharp on paper, while the picture costs a few hundred kB instead of a full-size PNG.
 */
export const REPORT_PICTURE_MAX_SIDE = 1200;
/** JPEG quality of an embedded picture: photos with drawn lines, where 80 shows no artefacts at print size. */
const REPORT_PICTURE_QUALITY = 80;
/** Flattened onto the picture box's own colour, so a transparent overlay looks as it would have. */
const PICTURE_BOX = '#f4f6f8';

/**
 * The picture as the report embeds it: at most `REPORT_PICTURE_MAX_SIDE` on its longest side, as JPEG. Undefined
 * when there is none or it cannot be read (the report then shows its placeholder rather than fail).
 */
async function reportPicture(picture: Buffer | undefined): Promise<Buffer | undefined> {
  if (!picture || picture.length === 0) return undefined;
  try {
    return await sharp(picture, { limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .resize(REPORT_PICTURE_MAX_SIDE, REPORT_PICTURE_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: PICTURE_BOX })
      .jpeg({ quality: REPORT_PICTURE_QUALITY, mozjpeg: true })
      .toBuffer();
  } catch {
    return undefined;
  }
}

function drawView(doc: Doc, view: ReportView, picture: Buffer | undefined): void {
  const width = contentWidth(doc);
  const score = Math.round(clampPercent(view.overall_score));
  const name = capitalize(reportText(view.view, 20));
  doc.x = MARGIN;
  doc.y = MARGIN;
  doc.font('Helvetica-Bold').fontSize(18).fillColor(INK).text(`${name} view`, MARGIN, MARGIN, { width: width - 120 });
  doc.font('Helvetica').fontSize(10).fillColor(MUTED)
    .text(`Detected view: ${reportText(view.detected_view, 20) || '-'}`, MARGIN, doc.y + 2, { width: width - 120 });
  doc.roundedRect(MARGIN + width - 100, MARGIN - 4, 100, 44, 6).fill(bandColour(score));
  doc.font('Helvetica-Bold').fontSize(22).fillColor('#ffffff')
    .text(`${Math.round(score)}`, MARGIN + width - 100, MARGIN + 2, { width: 100, align: 'center' });
  doc.font('Helvetica').fontSize(8).text('OVERALL SCORE', MARGIN + width - 100, MARGIN + 27, { width: 100, align: 'center' });
  doc.y = MARGIN + 56;

  drawOverlay(doc, picture, view.overlayCaption);
  if (view.warnings.length > 0) drawWarnings(doc, view.warnings);
  drawMetricTable(doc, view.metrics);
  drawFeedback(doc, view);
}

function drawOverlay(doc: Doc, picture: Buffer | undefined, caption: string | undefined): void {
  const width = contentWidth(doc);
  const boxHeight = 250;
  const top = doc.y;
  doc.rect(MARGIN, top, width, boxHeight).fill(PICTURE_BOX);
  let drawn = false;
  if (picture && picture.length > 0) {
    try {
      doc.image(picture, MARGIN + 8, top + 8, { fit: [width - 16, boxHeight - 16], align: 'center', valign: 'center' });
      drawn = true;
    } catch {
      // A corrupt or unsupported picture must not cost the whole report: show the placeholder instead.
    }
  }
  if (!drawn) {
    doc.font('Helvetica').fontSize(10).fillColor(MUTED)
      .text('No overlay picture available for this view', MARGIN, top + boxHeight / 2 - 6, { width, align: 'center' });
  }
  doc.x = MARGIN;
  doc.y = top + boxHeight + 6;
  const text = drawn && caption ? reportText(caption, 400) : '';
  if (text) {
    doc.font('Helvetica').fontSize(8.5).fillColor(MUTED).text(text, MARGIN, doc.y, { width });
    doc.x = MARGIN;
  }
  doc.y += 8;
}

function drawWarnings(doc: Doc, warnings: string[]): void {
  const width = contentWidth(doc);
  for (const warning of warnings.slice(0, 10)) {
    const text = reportText(warning, 400);
    doc.font('Helvetica').fontSize(9);
    const height = doc.heightOfString(text, { width: width - 24 }) + 10;
    ensureSpace(doc, height);
    const top = doc.y;
    doc.rect(MARGIN, top, width, height).fill('#fff4e0');
    doc.rect(MARGIN, top, 3, height).fill('#e0a21b');
    doc.fillColor('#7a4d00').text(text, MARGIN + 12, top + 5, { width: width - 24 });
    doc.x = MARGIN;
    doc.y = top + height + 4;
  }
  doc.moveDown(0.5);
}

function drawMetricTable(doc: Doc, metrics: ReportMetric[]): void {
  const width = contentWidth(doc);
  const cols = { label: MARGIN, measured: MARGIN + 170, target: MARGIN + 260, bar: MARGIN + 360 };
  const barWidth = width - (cols.bar - MARGIN) - 40;
  ensureSpace(doc, 60);
  sectionTitle(doc, 'Metrics');
  const header = () => {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(8).fillColor(MUTED);
    doc.text('METRIC', cols.label, y).text('MEASURED', cols.measured, y).text('TARGET', cols.target, y)
      .text('SCORE', cols.bar, y);
    doc.moveTo(MARGIN, y + 12).lineTo(MARGIN + width, y + 12).lineWidth(0.5).strokeColor(RULE).stroke();
    doc.y = y + 18;
  };
  header();
  if (metrics.length === 0) {
    doc.font('Helvetica').fontSize(10).fillColor(MUTED).text('No metric could be measured for this view.', MARGIN, doc.y);
  }
  for (const metric of metrics) {
    const label = reportText(metric.label || metric.name, 120);
    doc.font('Helvetica').fontSize(10);
    const rowHeight = Math.max(16, doc.heightOfString(label, { width: 160 })) + 8;
    if (doc.y + rowHeight > bottomLimit(doc)) {
      doc.addPage();
      header();
    }
    const y = doc.y;
    // Round once: the bar's colour and the printed number must agree (79.5 shows as 80 and is green).
    const percent = Math.round(clampPercent(metric.percent));
    doc.fillColor(INK).text(label, cols.label, y, { width: 160 });
    doc.text(reportText(metric.measured, 40), cols.measured, y, { width: 84, lineBreak: false, ellipsis: true });
    doc.fillColor(MUTED).text(reportText(metric.target, 40), cols.target, y, { width: 94, lineBreak: false, ellipsis: true });
    doc.roundedRect(cols.bar, y + 1, barWidth, 9, 4.5).fill(TRACK);
    if (percent > 0) doc.roundedRect(cols.bar, y + 1, Math.max(9, barWidth * percent / 100), 9, 4.5).fill(bandColour(percent));
    doc.font('Helvetica-Bold').fontSize(9).fillColor(INK)
      .text(`${percent}%`, cols.bar + barWidth + 6, y, { width: 34, align: 'right' });
    doc.moveTo(MARGIN, y + rowHeight - 4).lineTo(MARGIN + width, y + rowHeight - 4).lineWidth(0.5).strokeColor(TRACK).stroke();
    doc.x = MARGIN;
    doc.y = y + rowHeight;
  }
  doc.moveDown(1);
}

function drawFeedback(doc: Doc, view: ReportView): void {
  const width = contentWidth(doc);
  if (view.feedback.length === 0) return;
  ensureSpace(doc, 60);
  sectionTitle(doc, 'Feedback');
  const labels = new Map(view.metrics.map((m) => [m.name, m.label]));
  for (const item of view.feedback) {
    ensureSpace(doc, 48);
    doc.x = MARGIN;
    doc.font('Helvetica-Bold').fontSize(11).fillColor(INK)
      .text(reportText(labels.get(item.metric) || item.metric, 120), MARGIN, doc.y, { width });
    doc.moveDown(0.2);
    if (item.commendation) paragraph(doc, 'Well done: ', reportText(item.commendation), '#2f9e5b');
    if (item.critique) paragraph(doc, 'To improve: ', reportText(item.critique), '#d64545');
    for (const suggestion of item.suggestions.slice(0, 12)) {
      doc.font('Helvetica').fontSize(10).fillColor(INK)
        .text(`•  ${reportText(suggestion, 600)}`, MARGIN + 12, doc.y, { width: width - 12 });
      doc.moveDown(0.15);
    }
    doc.moveDown(0.7);
  }
}

function paragraph(doc: Doc, lead: string, text: string, colour: string): void {
  doc.font('Helvetica-Bold').fontSize(10).fillColor(colour).text(lead, MARGIN, doc.y, { width: contentWidth(doc), continued: true });
  doc.font('Helvetica').fillColor(INK).text(text);
  doc.moveDown(0.25);
}

function sectionTitle(doc: Doc, title: string): void {
  doc.font('Helvetica-Bold').fontSize(12).fillColor(ACCENT).text(title.toUpperCase(), MARGIN, doc.y, {
    width: contentWidth(doc), characterSpacing: 0.8,
  });
  doc.moveDown(0.5);
}

/** Page numbers need the final page count, so they are drawn last on the buffered pages. */
function drawFooters(doc: Doc, sessionId: string, email: string): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const y = doc.page.height - MARGIN + 6;
    // Drawing below the bottom margin would make pdfkit add a page: lift the margin while writing the footer.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.moveTo(MARGIN, y - 6).lineTo(doc.page.width - MARGIN, y - 6).lineWidth(0.5).strokeColor(RULE).stroke();
    doc.font('Helvetica').fontSize(8).fillColor(MUTED)
      .text(`Postura posture report  ·  session ${sessionId}  ·  ${email}`, MARGIN, y,
        { width: contentWidth(doc) - 80, lineBreak: false, ellipsis: true })
      .text(`Page ${i + 1 - range.start} of ${range.count}`, doc.page.width - MARGIN - 80, y,
        { width: 80, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

function capitalize(value: string): string {
  return value ? value.charAt(0).toUpperCase() + value.slice(1) : value;
}
