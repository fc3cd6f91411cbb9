// Pictures in the report: re-encoded before drawing (pdfkit embeds what it is given, so a full-size PNG would make a
// report of megabytes), then placed at their own aspect ratio, as large as the page leaves room for.
import sharp from 'sharp';
import { MAX_IMAGE_PIXELS } from '../pose/media-limits.ts';
import { ensureSpace, MARGIN, RULE, spaceLeft, contentWidth, type Doc } from './report-page.ts';

/**
 * Longest side, in px, of a picture embedded in the report. A picture is at most the content width (about 500 pt)
 * across, so 1200 px is near 170 dpi: sharp on paper, while a photo costs a few hundred kB instead of megabytes.
 */
export const REPORT_PICTURE_MAX_SIDE = 1200;
/** JPEG quality of an embedded photo: photos with drawn lines, where 80 shows no artefacts at print size. */
const PHOTO_QUALITY = 80;
/** Flattened onto white, so a transparent picture looks as it would have on the page. */
const PAPER = '#ffffff';

export interface ReportPicture {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The picture as the report embeds it, at most `REPORT_PICTURE_MAX_SIDE` on its longest side: a photo as JPEG, a
 * chart (flat colours and thin lines, which JPEG blurs) as a palette PNG. Undefined when there is none or it cannot
 * be read: the report then goes on without it rather than fail.
 */
export async function reportPicture(picture: Buffer | undefined, kind: 'photo' | 'chart'): Promise<ReportPicture | undefined> {
  if (!picture || picture.length === 0) return undefined;
  try {
    const resized = sharp(picture, { limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .resize(REPORT_PICTURE_MAX_SIDE, REPORT_PICTURE_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: PAPER });
    const encoded = kind === 'photo' ? resized.jpeg({ quality: PHOTO_QUALITY, mozjpeg: true }) : resized.png({ palette: true });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch {
    return undefined;
  }
}

/**
 * Draws the picture centred across the content width, as large as fits within `maxHeight` and the room left on the
 * page (less `keepBelow` for what must stay under it); on a new page when that leaves under `minHeight`. The cursor
 * ends below it. False when pdfkit refused the bytes.
 */
export function drawPicture(doc: Doc, picture: ReportPicture, sizes: { maxHeight: number; minHeight: number; keepBelow: number }): boolean {
  const width = contentWidth(doc);
  const natural = Math.min(width / picture.width, sizes.maxHeight / picture.height) * picture.height;
  const wanted = Math.min(natural, sizes.minHeight);
  ensureSpace(doc, wanted + sizes.keepBelow);
  const height = Math.min(natural, spaceLeft(doc) - sizes.keepBelow);
  const scale = height / picture.height;
  const drawnWidth = picture.width * scale;
  const x = MARGIN + (width - drawnWidth) / 2;
  const top = doc.y;
  try {
    doc.image(picture.data, x, top, { width: drawnWidth, height });
  } catch {
    return false;
  }
  doc.rect(x, top, drawnWidth, height).lineWidth(0.5).strokeColor(RULE).stroke();
  doc.x = MARGIN;
  doc.y = top + height + 4;
  return true;
}
