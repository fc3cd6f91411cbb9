import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderAnalysisReport, REPORT_PICTURE_MAX_SIDE, type AnalysisReportInput, type ReportView } from './pdf-report.ts';
import { reportText } from './report-text.ts';

/**
 * Text drawn by pdfkit is written as hex glyph strings inside TJ arrays; with `compress: false` the page streams
 * are plain, so decoding those strings (WinAnsi, one byte per glyph) gives back the visible text.
 */
/** Windows-1252 bytes 0x80 to 0x9F (Node's TextDecoder treats the label as Latin-1); undefined bytes map to '?'. */
const CP1252_HIGH = '€?‚ƒ„…†‡ˆ‰Š‹Œ?Ž??‘’“”•–—˜™š›œ?žŸ';
const winAnsi = {
  decode: (bytes: Buffer) => [...bytes].map((b) => (b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b))).join(''),
};

function drawnText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const lines: string[] = [];
  for (const [, array] of source.matchAll(/\[((?:<[0-9a-fA-F]*>\s*-?[\d.]*\s*)+)\]\s*TJ/g)) {
    let line = '';
    for (const [, hex] of array!.matchAll(/<([0-9a-fA-F]*)>/g)) line += winAnsi.decode(Buffer.from(hex!, 'hex'));
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
    <text x="230" y="470" fill="#fff" font-size="22" font-family="sans-serif">168°</text>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function sideView(overrides: Partial<ReportView> = {}): ReportView {
  return {
    view: 'left',
    detected_view: 'left',
    overall_score: 72,
    metrics: [
      { name: 'knee_angle', label: 'Knee angle', measured: '168.4°', target: '150–170° bend', percent: 100 },
      { name: 'head_tilt', label: 'Head tilt', measured: '-14.2°', target: '0 ± 10°', percent: 79.5 },
      { name: 'arm_angle', label: 'Arm angle', measured: '62.0°', target: '90 ± 10°', percent: 64 },
      { name: 'arm_bent_angle', label: 'Elbow bend', measured: '55.0°', target: '10–40°', percent: 62.5 },
      { name: 'leg_spread', label: 'Leg spread', measured: '31.2 cm', target: '46.6 ± 15.5 cm', percent: 100 },
      { name: 'back_angle', label: 'Back angle', measured: '38.9°', target: '0 ± 30°', percent: 40.7 },
    ],
    feedback: [
      { metric: 'knee_angle', commendation: 'Your knees are soft and well aligned: keep this relaxed bend.', suggestions: [] },
      {
        metric: 'back_angle',
        critique: 'Your trunk leans 38.9° forward, beyond the 0 ± 30° target.',
        suggestions: ['Hinge from the hips and bring your chest up.', 'Strengthen the back extensors with bird-dogs.'],
      },
      {
        metric: 'head_tilt',
        critique: 'Your head tilts down by 14.2°, just outside the ±10° range.',
        suggestions: ['Look at a point at eye level.'],
      },
    ],
    warnings: [],
    ...overrides,
  };
}

function reportInput(overrides: Partial<AnalysisReportInput> = {}): AnalysisReportInput {
  return {
    analysis: {
      id: '6c1b3f0e-8c43-4c7e-9d55-2b1f3e8a9d10', session_id: 'session-abc_123', model_name: 'cx', profile: 'stance',
      created_at: new Date('2025-03-14T09:26:53Z'), finished_at: '2025-03-14T09:27:41Z',
    },
    user: { name: 'Ada Lovelace', email: 'ada@example.com' },
    summary: 'Fair posture, consider adjustments.',
    views: [sideView()],
    ...overrides,
  };
}

describe('renderAnalysisReport', () => {
  it('renders a valid PDF with the metadata, metrics and feedback, with an overlay', async () => {
    const overlayPng = await overlayPicture();
    const input = reportInput({
      views: [
        sideView({ overlayPng, warnings: ['Declared view "left" but the picture looks like "front".'] }),
        sideView({
          view: 'front', detected_view: 'front', overall_score: 91, overlayPng,
          metrics: [{ name: 'foot_to_shoulder_offset', label: 'Foot to shoulder offset', measured: 'L 1.2 / R 2.0 cm', target: '0 ± 3.1 cm', percent: 91 }],
          feedback: [{ metric: 'foot_to_shoulder_offset', commendation: 'Feet are right under your shoulders.', suggestions: [] }],
        }),
      ],
    });
    const pdf = await renderAnalysisReport(input, { compress: false });
    expectValidPdf(pdf);
    const text = drawnText(pdf);
    expect(text).toContain('session-abc_123');
    expect(text).toContain('Knee angle');
    expect(text).toContain('Ada Lovelace');
    expect(text).toContain('Hinge from the hips');
    expect(text).toContain('Left view');
    expect(text).toContain('Front view');
    const pages = Number(/Page 1 of (\d+)/.exec(text)?.[1]);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(text).toContain(`Page ${pages} of ${pages}`);
    expect(pdf.toString('latin1')).toMatch(/\/Subtype \/Image/);
    // The default output is compressed and much smaller.
    const compressed = await renderAnalysisReport(input);
    expectValidPdf(compressed);
    expect(compressed.length).toBeLessThan(pdf.length);
  });

  it('captions the overlay with the frame it shows, and only when the picture is drawn', async () => {
    const overlayCaption = 'Frame 124 at t = 4.13 s: the values at the joints were measured on this frame only.';
    const drawn = drawnText(await renderAnalysisReport(reportInput({ views: [sideView({ overlayPng: await overlayPicture(), overlayCaption })] }), { compress: false }));
    expect(drawn).toContain('Frame 124 at t = 4.13 s');
    const corrupt = sideView({ overlayPng: Buffer.from('not a png'), overlayCaption });
    expect(drawnText(await renderAnalysisReport(reportInput({ views: [corrupt] }), { compress: false }))).not.toContain('Frame 124');
  });

  it('renders without an overlay, with a corrupt overlay, and with no views', async () => {
    for (const views of [[sideView()], [sideView({ overlayPng: Buffer.from('not a png') })], []]) {
      const pdf = await renderAnalysisReport(reportInput({ views }), { compress: false });
      expectValidPdf(pdf);
      expect(drawnText(pdf)).toContain('session-abc_123');
      if (views.length > 0) expect(drawnText(pdf)).toContain('No overlay picture available');
    }
  });

  it('embeds a big picture as a JPEG of at most REPORT_PICTURE_MAX_SIDE px, keeping the report small', async () => {
    // Blurred noise compresses like a photo does: a full-size PNG of it is megabytes.
    const noise = { width: 3000, height: 2000, channels: 3 as const, background: '#808080', noise: { type: 'gaussian' as const, mean: 128, sigma: 40 } };
    const picture = await sharp({ create: noise }).blur(1.5).png().toBuffer();
    expect(picture.length).toBeGreaterThan(3 * 1024 * 1024);
    const pdf = await renderAnalysisReport(reportInput({ views: [sideView({ overlayPng: picture })] }));
    expectValidPdf(pdf);
    const source = pdf.toString('latin1');
    const image = /\/Subtype \/Image[^]*?>>/.exec(source)?.[0] ?? '';
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
      summary: `${hostile} ${'very long summary '.repeat(2000)}`,
      views: [sideView({
        view: hostile, detected_view: '😀 𝕏 中文 עברית',
        metrics: [{ name: 'm', label: longWord, measured: hostile, target: '\u0000', percent: Number.NaN },
          { name: 'n', label: 'Ünïcödé ångle — “quoted” ≥ 5 ✓', measured: '1', target: '2', percent: 250 }],
        feedback: [{ metric: 'm', critique: hostile, commendation: longWord, suggestions: Array(40).fill(hostile) }],
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
