import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { evaluatePose } from '../posture/evaluate-view.ts';
import { toList, frontPose, rightFacingPose } from '../posture/pose-fixtures.test-helper.ts';
import { buildOverlaySvg, confidenceColour, escapeXml, renderOverlayPng } from './overlay.ts';

const GREY = { r: 128, g: 128, b: 128 };

async function greyJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: GREY } }).jpeg({ quality: 95 }).toBuffer();
}

async function pixel(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (Math.round(y) * info.width + Math.round(x)) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

function differs(p: number[]): boolean {
  return Math.abs(p[0]! - GREY.r) + Math.abs(p[1]! - GREY.g) + Math.abs(p[2]! - GREY.b) > 30;
}

describe('renderOverlayPng', () => {
  it('returns a PNG of the input size whose pixels change along the skeleton only', async () => {
    const kps = toList(frontPose()); // body inside x 200-425, y 90-600
    const image = await greyJpeg(1000, 700);
    const result = evaluatePose(kps, { view: 'front' });
    const png = await renderOverlayPng(image, kps, result);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1000, 700]);
    // midpoint of the left upper arm (400,200)→(420,300) and of the right shin (300,500)→(200,600)
    expect(differs(await pixel(png, 410, 250))).toBe(true);
    expect(differs(await pixel(png, 250, 550))).toBe(true);
    // far corner, away from skeleton, labels and header
    expect(differs(await pixel(png, 980, 690))).toBe(false);
  });

  it('accepts named keypoints and works without a result (skeleton only)', async () => {
    const png = await renderOverlayPng(await greyJpeg(640, 640), { left_shoulder: [100, 100, 0.9], left_hip: [100, 300, 0.9] });
    expect(differs(await pixel(png, 100, 200))).toBe(true);
    expect(differs(await pixel(png, 500, 500))).toBe(false);
  });
});

describe('buildOverlaySvg', () => {
  it('draws an arc and a label for every measured angle, coloured by its score', () => {
    const kps = toList(rightFacingPose());
    const result = evaluatePose(kps, { view: 'right' });
    const svg = buildOverlaySvg(1000, 700, kps, result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="700"')).toBe(true);
    for (const label of ['knee 143.1°', 'head -22.6°', 'arm 108.4°', 'elbow bend 36.9°', 'spread 47 cm', 'back 18.4°']) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(svg.match(/ A /g)?.length).toBeGreaterThanOrEqual(2 * 5); // fill + stroke (+ under-stroke) per arc
    expect(svg).toContain('stroke="#22c55e"'); // full score: green
    expect(svg).toContain('fill="#ef4444"'); // head at 36.9 %: red
    expect(svg).toContain('>stance · right view · score 85</text>');
  });

  it('escapes every text it writes', () => {
    const svg = buildOverlaySvg(100, 100, toList(frontPose()), undefined, { title: '<script>"&\'' });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;&quot;&amp;&#39;');
    expect(escapeXml('a<b')).toBe('a&lt;b');
  });

  it('scales strokes and fonts with the image size', () => {
    const kps = toList(frontPose());
    const small = buildOverlaySvg(640, 480, kps);
    const big = buildOverlaySvg(3840, 2160, kps.map(([x, y, c]) => [x * 6, y * 6, c]));
    const width = (svg: string) => Number(svg.match(/stroke="#f8fafc"[^>]*stroke-width="([\d.]+)"/)![1]);
    expect(width(big) / width(small)).toBeCloseTo(6, 5);
  });

  it('colours keypoints from red (0) to green (1)', () => {
    expect(confidenceColour(0)).toBe('hsl(0, 90%, 50%)');
    expect(confidenceColour(1)).toBe('hsl(120, 90%, 50%)');
    expect(confidenceColour(0.5)).toBe('hsl(60, 90%, 50%)');
  });
});

const DEV = new URL('../../../shared/data/dev/', import.meta.url);
const hasDev = existsSync(new URL('annotations.json', DEV));

describe.skipIf(!hasDev)('overlay on a real photo (../shared/data present)', () => {
  it('draws the COCO ground truth of coco_000000000785.jpg on the picture', async () => {
    const ann = JSON.parse(readFileSync(new URL('annotations.json', DEV), 'utf8')) as {
      images: { file: string; annotations: { keypoints: [number, number, number][] }[] }[];
    };
    const entry = ann.images.find((i) => i.file === 'coco_000000000785.jpg')!;
    // COCO visibility v (0/1/2) → confidence 0 or 1
    const kps = entry.annotations[0]!.keypoints.map(([x, y, v]) => [x, y, v > 0 ? 1 : 0]);
    const image = readFileSync(new URL('coco_000000000785.jpg', DEV));
    const png = await renderOverlayPng(image, kps, evaluatePose(kps, { profile: 'upright', view: 'front' }));
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([640, 425]);
    // left upper arm (399,108)→(433,142): the overlay pixel differs from the photo's
    const before = await sharp(image).raw().toBuffer({ resolveWithObject: true });
    const i = (125 * before.info.width + 416) * before.info.channels;
    const after = await pixel(png, 416, 125);
    const delta = [0, 1, 2].reduce((s, c) => s + Math.abs(after[c]! - before.data[i + c]!), 0);
    expect(delta).toBeGreaterThan(60);
  });
});
