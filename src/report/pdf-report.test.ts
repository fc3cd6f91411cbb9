import sharp from 'sharp';
import { extractText, getDocumentProxy } from 'unpdf';
import { describe, expect, it } from 'vitest';
import { renderAnalysisReport, REPORT_PICTURE_MAX_SIDE, type AnalysisReportInput, type ReportView } from './pdf-report.ts';
import { reportText } from './report-text.ts';

/** The text of each page as a PDF reader extracts it (pdf.js), whitespace runs collapsed. */
async function pageTexts(pdf: Buffer): Promise<string[]> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: false });
  return text.map((page) => page.replace(/\s+/g, ' '));
}

/** How far down its writable height (0 to 1) the lowest text of the last page, footer aside, reaches. */
async function lastPageFill(pdf: Buffer): Promise<number> {
  const document = await getDocumentProxy(new Uint8Array(pdf));
  const page = await document.getPage(document.numPages);
  const { items } = await page.getTextContent();
  const height = page.view[3]!;
  const footer = height - 48 + 6; // pdf-report.ts: the footer's baseline region, below the bottom margin
  const lowest = Math.min(...(items as Array<{ str: string; transform: number[] }>)
    .filter((item) => item.str.trim() && height - item.transform[5]! < footer - 12)
    .map((item) => item.transform[5]!));
  return (height - 48 - lowest) / (height - 2 * 48 - 24);
}

/**
 * Text drawn by pdfkit is written as hex glyph strings inside TJ arrays; with `compress: false` the page streams
 * are plain, so decoding those strings (WinAnsi, one byte per glyph) gives back the drawn text, operators aside.
 */
/** Windows-1252 bytes 0x80 to 0x9F (Node's TextDecoder treats the label as Latin-1); undefined bytes map to '?'. */
const CP1252_HIGH = '€?‚ƒ„…†‡ˆ‰Š‹Œ?Ž??‘’“”•–—˜™š›œ?žŸ';
function drawnText(pdf: Buffer): string {
  const lines: string[] = [];
  for (const [, array] of pdf.toString('latin1').matchAll(/\[((?:<[0-9a-fA-F]*>\s*-?[\d.]*\s*)+)\]\s*TJ/g)) {
    let line = '';
    for (const [, hex] of array!.matchAll(/<([0-9a-fA-F]*)>/g)) {
      line += [...Buffer.from(hex!, 'hex')].map((b) => (b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b))).join('');
    }
    lines.push(line);
  }
  return lines.join('\n');
}

function expectValidPdf(pdf: Buffer): void {
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  expect(pdf.subarray(-6).toString()).toMatch(/%%EOF\s*$/);
  expect(pdf.toString('latin1')).toMatch(/\/Type \/Catalog/);
}

async function overlayPicture(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="360" height="640">
    <rect width="360" height="640" fill="#49535c"/>
    <g stroke="#38d39f" stroke-width="6" fill="none">
      <path d="M180 110 L180 330 M120 170 L240 170 L270 260 M120 170 L95 260 M150 330 L210 330 L215 470 L220 600 M150 330 L145 470 L140 600"/>
    </g>
    <circle cx="180" cy="80" r="34" fill="#f2c14e"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A photo-like picture: blurred noise compresses as a photo does (a full-size PNG of it is megabytes). */
async function photo(width: number, height: number): Promise<Buffer> {
  const noise = { width, height, channels: 3 as const, background: '#808080', noise: { type: 'gaussian' as const, mean: 128, sigma: 40 } };
  return sharp({ create: noise }).blur(1.5).png().toBuffer();
}

/** A small chart of three angle panels, as a video's view carries (the real one comes from angle-charts.ts). */
async function anglesChart(): Promise<Buffer> {
  const panel = (y: number, points: string) => `<rect x="40" y="${y}" width="740" height="120" fill="#f0fdf4"/>
    <polyline points="${points}" transform="translate(40 ${y})" stroke="#2563eb" stroke-width="2" fill="none"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="480"><rect width="800" height="480" fill="#fff"/>
    ${panel(30, '0,60 100,40 200,80 300,50 400,70 500,30 600,60 700,40')}
    ${panel(180, '0,20 100,30 200,25 300,60 400,90 500,80 600,70 700,90')}
    ${panel(330, '0,100 100,80 200,60 300,70 400,50 500,60 600,40 700,50')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const KENDALL = 'Kendall FP et al. Muscles: Testing and Function, with Posture and Pain, 5th ed., 2005 (ideal alignment)';
const CONTRACT = 'Postura studio contract (SPEC section 5), inherited from the legacy studio service.';

function sideView(overrides: Partial<ReportView> = {}): ReportView {
  return {
    view: 'left',
    detected_view: 'left',
    overall_score: 72,
    metrics: [
      { name: 'knee_angle', label: 'Knee angle', measured: '168.4°', normalRange: 'knee bend of 10–30° (angle 150–170°)', source: CONTRACT, percent: 100 },
      { name: 'head_tilt', label: 'Head tilt', measured: '-14.2°', normalRange: 'within ±10° (score 0 at ±30°)', source: KENDALL, percent: 79.5 },
      { name: 'leg_spread', label: 'Leg spread', measured: '31.2 cm', normalRange: '31.1–62.1 cm', source: CONTRACT, percent: 100 },
      { name: 'back_angle', label: 'Back angle', measured: '38.9°', normalRange: 'within ±30° of vertical', source: CONTRACT, percent: 40.7 },
    ],
    scale: "Centimetres: scaled by the subject's height of 172 cm (0.2113 cm/px).",
    feedback: [
      { metric: 'knee_angle', commendation: 'Left view, knee angle 168.4°: your knees are soft and well aligned.', suggestions: [] },
      {
        metric: 'back_angle',
        critique: 'Left view, back angle 38.9° (normal within ±30°): your trunk leans forward.',
        suggestions: ['Hinge from the hips and bring your chest up.', 'Strengthen the back extensors with bird-dogs.'],
      },
    ],
    warnings: [],
    ...overrides,
  };
}

function frontView(overrides: Partial<ReportView> = {}): ReportView {
  return sideView({
    view: 'front', detected_view: 'front', overall_score: 91,
    metrics: [{ name: 'foot_to_shoulder_offset', label: 'Foot to shoulder offset', measured: 'left 1.2 cm, right 2 cm',
      normalRange: 'each foot within ±3.1 cm of the shoulder line', source: CONTRACT, percent: 91 }],
    feedback: [{ metric: 'foot_to_shoulder_offset', commendation: 'Front view: your feet are right under your shoulders.', suggestions: [] }],
    ...overrides,
  });
}

function reportInput(overrides: Partial<AnalysisReportInput> = {}): AnalysisReportInput {
  return {
    analysis: {
      id: '6c1b3f0e-8c43-4c7e-9d55-2b1f3e8a9d10', session_id: 'session-abc_123', model_name: 'cx', profile: 'stance',
      created_at: new Date('2025-03-14T09:26:53Z'), finished_at: '2025-03-14T09:27:41Z',
    },
    user: { name: 'Dr Grace Hopper', email: 'clinic@example.com' },
    subject: { name: 'Ada Lovelace', birthDate: '1985-12-10', age: 39, heightCm: 172, notes: 'Desk worker; low back pain after sitting.' },
    summary: 'Fair posture, consider adjustments. The left view pulled the score down: 72, against front 91.',
    overall_score: 82,
    views: [sideView()],
    ...overrides,
  };
}

describe('renderAnalysisReport', () => {
  it('heads the report with the person assessed and the date; the account only as who prepared it', async () => {
    const first = (await pageTexts(await renderAnalysisReport(reportInput())))[0]!;
    expect(first).toContain('Ada Lovelace');
    expect(first).toContain('Age 39 (born 1985-12-10)');
    expect(first).toContain('Height 172 cm');
    expect(first).toContain('Notes: Desk worker; low back pain after sitting.');
    expect(first).toContain('Assessed 2025-03-14 09:26 UTC');
    expect(first).toContain('Prepared by account: Dr Grace Hopper (clinic@example.com)');
    expect(first).toContain('Fair posture, consider adjustments. The left view pulled the score down');
    // The account holder is not the one assessed: their name appears on that line only.
    expect(first.split('Dr Grace Hopper')).toHaveLength(2);

    const unnamed = (await pageTexts(await renderAnalysisReport(reportInput({ subject: undefined }))))[0]!;
    expect(unnamed).toContain('Person assessed: name not given');
    expect(unnamed).not.toContain('Age ');
  });

  it("shows each view's measures with units, normal ranges and their numbered sources, and the scale of its cm", async () => {
    const text = (await pageTexts(await renderAnalysisReport(reportInput({ views: [sideView(), frontView()] })))).join(' ');
    for (const row of [
      'Knee angle 168.4° knee bend of 10–30° (angle 150–170°) [1] 100%',
      'Head tilt -14.2° within ±10° (score 0 at ±30°) [2] 80%',
      'Leg spread 31.2 cm 31.1–62.1 cm [1] 100%',
      'Foot to shoulder offset left 1.2 cm, right 2 cm each foot within ±3.1 cm of the shoulder line [1] 91%',
    ]) expect(text).toContain(row);
    expect(text).toContain(`[1] ${CONTRACT} [2] ${KENDALL}`);
    // Stated once per view, above its table.
    expect(text.match(/Centimetres: scaled by the subject's height of 172 cm/g)).toHaveLength(2);
    expect(text).toContain('Left view, back angle 38.9° (normal within ±30°): your trunk leans forward.');
    expect(text).toContain('Hinge from the hips and bring your chest up.');
  });

  it('compares with the previous assessment: both scores and the change, per view and per measure', async () => {
    const input = reportInput({
      previous: { created_at: new Date('2025-02-01T10:00:00Z'), session_id: 'visit-1', overall_score: 70 },
      views: [sideView({
        comparison: {
          previousScore: 64,
          rows: [
            { label: 'Knee angle', previous: '160.2°', current: '168.4°', change: '+8.2°', trend: 'better' },
            { label: 'Back angle', previous: '30.5°', current: '38.9°', change: '+8.4°', trend: 'worse' },
          ],
        },
      }), frontView()],
    });
    const text = (await pageTexts(await renderAnalysisReport(input))).join(' ');
    expect(text).toContain('Compared with the previous assessment of 2025-02-01 10:00 UTC (session visit-1): overall 70 then, 82 now (+12).');
    expect(text).toContain('was 64 (+8)');
    expect(text).toContain('COMPARED WITH THE PREVIOUS ASSESSMENT OF 2025-02-01 10:00 UTC');
    expect(text).toContain('MEASURE PREVIOUS THIS ASSESSMENT CHANGE View score (0 to 100) 64 72 +8 Knee angle 160.2° 168.4° +8.2° Back angle 30.5° 38.9° +8.4°');
    // Only the view the previous assessment had is compared.
    expect(text.match(/View score \(0 to 100\)/g)).toHaveLength(1);
  });

  it('keeps a typical two-view report (a photo, and a video with its chart) under 1 MB, every page with text', async () => {
    const input = reportInput({
      previous: { created_at: new Date('2025-02-01T10:00:00Z'), session_id: 'visit-1', overall_score: 70 },
      views: [
        frontView({ overlayPng: await photo(3000, 2000), overlayCaption: 'The photo as analysed.' }),
        sideView({ overlayPng: await photo(1080, 1920), overlayCaption: 'Frame 124 at t = 4.13 s.', chartPng: await anglesChart(),
          comparison: { previousScore: 64, rows: [{ label: 'Knee angle', previous: '160.2°', current: '168.4°', change: '+8.2°', trend: 'better' }] } }),
      ],
    });
    const pdf = await renderAnalysisReport(input);
    expectValidPdf(pdf);
    expect(pdf.length).toBeLessThan(1024 * 1024);
    const pages = await pageTexts(pdf);
    expect(pages.join(' ')).toContain('OVER TIME');
    for (const [i, page] of pages.entries()) {
      // Beyond the footer every page carries some of the report.
      expect(page.replace(/Postura posture assessment.*?Page \d+ of \d+/, '').trim().length, `page ${i + 1}`).toBeGreaterThan(40);
    }
    expect(pages.at(-1)).toContain(`Page ${pages.length} of ${pages.length}`);
    // Pictures (two JPEG photos, one chart) embedded once each.
    expect(pdf.toString('latin1').match(/\/Subtype \/Image/g)).toHaveLength(3);
  }, 60_000);

  it('leaves no nearly empty last page, however long the feedback runs', async () => {
    const [picture, portrait, chart] = await Promise.all([photo(1280, 720), photo(720, 1280), anglesChart()]);
    const line = (i: number) => ({ metric: `m${i}`, critique: `Left view, measure ${i} 12° (normal 0 to 10°): a little more than it should be.`,
      suggestions: ['Look at a point at eye level.', 'Take a break every half hour.'] });
    for (let n = 1; n <= 8; n++) {
      const pdf = await renderAnalysisReport(reportInput({ views: [
        frontView({ overlayPng: picture, feedback: Array.from({ length: n }, (_, i) => line(i)) }),
        sideView({ overlayPng: portrait, chartPng: chart, feedback: Array.from({ length: n }, (_, i) => line(i)) }),
      ] }));
      expect(await lastPageFill(pdf), `${n} feedback lines`).toBeGreaterThan(0.2);
    }
  }, 60_000);

  it('captions the overlay with the frame it shows, and only when the picture is drawn', async () => {
    const overlayCaption = 'Frame 124 at t = 4.13 s: the values at the joints were measured on this frame only.';
    const drawn = await pageTexts(await renderAnalysisReport(reportInput({ views: [sideView({ overlayPng: await overlayPicture(), overlayCaption })] })));
    expect(drawn.join(' ')).toContain('Frame 124 at t = 4.13 s');
    const corrupt = sideView({ overlayPng: Buffer.from('not a png'), overlayCaption });
    expect((await pageTexts(await renderAnalysisReport(reportInput({ views: [corrupt] })))).join(' ')).not.toContain('Frame 124');
  });

  it('renders without an overlay, with a corrupt overlay, and with no views', async () => {
    for (const views of [[sideView()], [sideView({ overlayPng: Buffer.from('not a png'), chartPng: Buffer.from('nor this') })], []]) {
      const pdf = await renderAnalysisReport(reportInput({ views }));
      expectValidPdf(pdf);
      const pages = await pageTexts(pdf);
      expect(pages[0]).toContain('Ada Lovelace');
      if (views.length > 0) expect(pages.join(' ')).toContain('No overlay picture available');
      else expect(pages).toHaveLength(1);
    }
  });

  it('embeds a big picture as a JPEG of at most REPORT_PICTURE_MAX_SIDE px, keeping the report small', async () => {
    const picture = await photo(3000, 2000);
    expect(picture.length).toBeGreaterThan(3 * 1024 * 1024);
    const pdf = await renderAnalysisReport(reportInput({ views: [sideView({ overlayPng: picture })] }));
    expectValidPdf(pdf);
    const image = /\/Subtype \/Image[^]*?>>/.exec(pdf.toString('latin1'))?.[0] ?? '';
    expect(image).toContain('/DCTDecode');
    const width = Number(/\/Width (\d+)/.exec(image)?.[1]);
    const height = Number(/\/Height (\d+)/.exec(image)?.[1]);
    expect([width, height]).toEqual([REPORT_PICTURE_MAX_SIDE, REPORT_PICTURE_MAX_SIDE * 2 / 3]);
    expect(pdf.length).toBeLessThan(1024 * 1024);
  }, 60_000);

  it('draws hostile text as inert text', async () => {
    const hostile = '<script>alert(1)</script> ) Tj ET BT /F1 99 Tf (pwned) Tj \\) \\( \u0000\u0007\u001b[31m\u202Egnp.exe';
    const longWord = 'x'.repeat(20_000);
    const input = reportInput({
      user: { name: hostile, email: `${longWord}@example.com` },
      subject: { name: hostile, birthDate: hostile, age: 39, heightCm: 172, notes: `${hostile} ${longWord}` },
      summary: `${hostile} ${'very long summary '.repeat(2000)}`,
      previous: { created_at: hostile, session_id: hostile, overall_score: Number.NaN },
      views: [sideView({
        view: hostile, detected_view: '😀 𝕏 中文 עברית',
        metrics: [{ name: 'm', label: longWord, measured: hostile, normalRange: '\u0000', source: hostile, percent: Number.NaN },
          { name: 'n', label: 'Ünïcödé ångle — “quoted” ≥ 5 ✓', measured: '1', normalRange: '2', percent: 250 }],
        feedback: [{ metric: 'm', critique: hostile, commendation: longWord, suggestions: Array(40).fill(hostile) }],
        comparison: { previousScore: Number.NaN, rows: [{ label: hostile, previous: hostile, current: longWord, change: hostile }] },
        warnings: Array(30).fill(`${hostile} `.repeat(20)),
      })],
    });
    const pdf = await renderAnalysisReport(input, { compress: false });
    expectValidPdf(pdf);
    const text = drawnText(pdf);
    expect(text).toContain('<script>alert(1)</script>');
    expect(text).not.toMatch(/[\u0000-\u0008\u001b\u202e]/);
    // The label wraps in its table cell; each line is its own text run.
    expect(text).toContain('Ünïcödé ångle — “quoted”');
    expect(text).toContain('>= 5 +');
    // Hostile text did not open a text object of its own: there are exactly as many BT as ET operators.
    const source = pdf.toString('latin1');
    expect(source.match(/\bBT\b/g)?.length).toBe(source.match(/\bET\b/g)?.length);
    expect(source).not.toContain('(pwned) Tj');
  }, 60_000);
});

describe('reportText', () => {
  it('removes controls and invisible formatting, maps what Helvetica cannot draw, and caps length', () => {
    expect(reportText('a\u0000b\u0007c\td\ne\u200bf\u202eg')).toBe('abc d efg');
    expect(reportText('Zoë naïve ≤ 3 → ok')).toBe('Zoë naïve <= 3 -> ok');
    expect(reportText('Łódź ř 中 😀')).toBe('Lódz r ? ?');
    expect(reportText('abcdefghij', 4)).toBe('abcd…');
    expect(reportText(undefined)).toBe('');
    expect(reportText(42)).toBe('42');
  });
});
