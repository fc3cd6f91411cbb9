// The report's page geometry, palette and the few drawing helpers every part of it shares. pdfkit moves a cursor
// (doc.x, doc.y) as it writes; these helpers always put it back at the left margin, below what they drew.

export type Doc = PDFKit.PDFDocument;

export const MARGIN = 48;
/** Room kept above the bottom margin for the footer line. */
const FOOTER_ROOM = 24;
export const INK = '#1f2933';
export const MUTED = '#667085';
export const RULE = '#d0d5dd';
export const ACCENT = '#12626b';
export const TRACK = '#eaecf0';
export const GOOD = '#2f9e5b';
export const BAD = '#d64545';

export function contentWidth(doc: Doc): number {
  return doc.page.width - 2 * MARGIN;
}

export function bottomLimit(doc: Doc): number {
  return doc.page.height - MARGIN - FOOTER_ROOM;
}

export function spaceLeft(doc: Doc): number {
  return bottomLimit(doc) - doc.y;
}

/** Starts a new page when `height` more points would not fit above the footer. */
export function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > bottomLimit(doc)) {
    doc.addPage();
    doc.x = MARGIN;
    doc.y = MARGIN;
  }
}

/** A section title, kept on the page with at least `keepWith` points of what follows it. */
export function sectionTitle(doc: Doc, title: string, keepWith = 40): void {
  ensureSpace(doc, 22 + keepWith);
  doc.font('Helvetica-Bold').fontSize(10.5).fillColor(ACCENT).text(title.toUpperCase(), MARGIN, doc.y, {
    width: contentWidth(doc), characterSpacing: 0.8,
  });
  doc.x = MARGIN;
  doc.y += 5;
}

export function capitalize(value: string): string {
  return value ? value.charAt(0).toUpperCase() + value.slice(1) : value;
}
