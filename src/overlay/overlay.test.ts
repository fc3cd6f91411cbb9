import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { buildDetailedResult, type DetailedResult } from '../analysis/view-analysis.ts';
import type { MediaInfo, PoseFrame } from '../pose/analyze-media.ts';
import type { Keypoint } from '../posture/keypoints.ts';
import type { View } from '../posture/profile.ts';
import { at, frontPose, rightFacingPose, toList, withScore, type Pose } from '../posture/pose-fixtures.test-helper.ts';
import { overlayCaption, overlayContent, viewLabel, type OverlayContent } from './overlay-content.ts';
import { renderAnalysisReport } from '../report/pdf-report.ts';
import { buildOverlaySvg, confidenceColour, escapeXml, OVERLAY_MAX_SIDE, renderOverlayPng, scaleOverlayContent } from './overlay.ts';

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

function mediaInfo(fileType: 'image' | 'video', frames: number): MediaInfo {
  return {
    fileType, format: fileType === 'image' ? 'jpeg' : 'mp4', width: 1000, height: 700,
    fps: fileType === 'image' ? 0 : 30, totalFrames: frames, frameStep: fileType === 'image' ? 1 : 2,
    duration: frames / 30, rotation: 0,
  } as MediaInfo;
}

function detailed(info: MediaInfo, frames: PoseFrame[], view: 'auto' | View = 'auto', profile = 'stance'): DetailedResult {
  return buildDetailedResult(info, frames, { model: 'cx', view, profile });
}

function poseFrame(frameIndex: number, keypoints: Keypoint[] | null, fps = 30): PoseFrame {
  return { frame_index: frameIndex, timestamp: fps ? Math.round((frameIndex / fps) * 1000) / 1000 : 0, keypoints, box: null, score: 0.9 };
}

/**
 * Eight side-view frames (every second frame of a 30 fps clip) whose ankle and wrist move, so the knee, arm and
 * leg-spread values differ from frame to frame and from their trimmed mean.
 */
function sideClip(view: 'auto' | 'left' = 'auto'): DetailedResult {
  const frames = Array.from({ length: 8 }, (_, i) => {
    let pose: Pose = rightFacingPose();
    pose = at(pose, 'right_ankle', 360 + 9 * i, 580);
    pose = at(pose, 'right_wrist', 600, 300 + 12 * i);
    return poseFrame(2 * i, toList(pose));
  });
  return detailed(mediaInfo('video', 16), frames, view);
}

function photo(pose: Pose = frontPose(), view: 'auto' | View = 'auto'): DetailedResult {
  return detailed(mediaInfo('image', 1), [poseFrame(0, toList(pose), 0)], view);
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}

interface DrawnText {
  attrs: Record<string, string>;
  text: string;
}

/** Every <text> of the SVG with its attributes: what the picture shows, read back from the drawing. */
function drawnTexts(svg: string): DrawnText[] {
  return [...svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, text]) => ({
    attrs: Object.fromEntries([...attrs!.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k!, unescapeXml(v!)])),
    text: unescapeXml(text!),
  }));
}

function drawnNumber(text: string): number {
  const m = /(-?\d+(?:\.\d+)?)\s*(?:°|cm)?$/.exec(text);
  if (!m) throw new Error(`no number in "${text}"`);
  return Number(m[1]);
}

/**
 * What the drawing says, checked against the result it was drawn from: the frame section's heading names a frame
 * of `frames_data` and its time, every value in the frame section (panel and callouts at the joints) is that
 * frame's own measurement, every value in the aggregate section is `aggregated_results`' (rounded as drawn: 0.1),
 * and each panel shows all of its values. Returns the disagreements, empty when there are none.
 */
function disagreements(svg: string, result: DetailedResult): string[] {
  const problems: string[] = [];
  const texts = drawnTexts(svg);
  const near = (drawn: number, want: number | undefined) => want !== undefined && Math.abs(drawn - want) <= 0.05 + 1e-9;
  const heading = (section: string) => texts.find((t) => t.attrs['data-section'] === section && t.attrs['data-role'] === 'heading')?.text;
  const photoPanel = heading('photo') !== undefined;
  const frameHeading = heading(photoPanel ? 'photo' : 'frame') ?? '';
  const index = Number(/[Ff]rame (\d+)/.exec(frameHeading)?.[1]);
  const frame = result.frames_data.find((f) => f.frame_index === index);
  if (!frame?.measurements) return [`the frame heading "${frameHeading}" names no measured frame`];
  if (!photoPanel && !frameHeading.includes(`t = ${frame.timestamp.toFixed(2)} s`)) problems.push(`time of frame ${index} not in "${frameHeading}"`);
  const aggregate = result.aggregated_results;
  const sections: Record<string, { values: Readonly<Record<string, number>>; score: number | null }[]> = {
    frame: [{ values: frame.measurements, score: frame.score.overall_score }],
    aggregate: [{ values: aggregate.measurements, score: aggregate.score.overall_score }],
    photo: [{ values: frame.measurements, score: frame.score.overall_score }, { values: aggregate.measurements, score: aggregate.score.overall_score }],
  };
  for (const [section, expected] of Object.entries(sections)) {
    const inSection = texts.filter((t) => t.attrs['data-section'] === section);
    if (inSection.length === 0) continue;
    for (const t of inSection) {
      const name = t.attrs['data-measurement'];
      const want = (e: (typeof expected)[number]) => (name ? e.values[name] : t.attrs['data-score'] ? e.score ?? undefined : undefined);
      if (!name && !t.attrs['data-score']) continue;
      for (const e of expected) if (!near(drawnNumber(t.text), want(e))) problems.push(`${section} ${name ?? 'score'}: drew "${t.text}", result has ${want(e)}`);
    }
    // Completeness: the panel lists every value of its source (callouts at the joints may be fewer).
    if (heading(section) === undefined) continue;
    const listed = new Set(inSection.filter((t) => t.attrs['text-anchor'] === 'end').map((t) => t.attrs['data-measurement']));
    for (const e of expected) for (const name of Object.keys(e.values)) if (!listed.has(name)) problems.push(`${section} panel lacks ${name}`);
  }
  if (!photoPanel && (heading('frame') === undefined || heading('aggregate') === undefined)) problems.push('frame and aggregate panels are not both drawn');
  return problems;
}

describe('overlay content and drawing agree with the result', () => {
  it('draws the representative frame: its time, its own values (panel and joints), and apart the clip aggregate', () => {
    const result = sideClip();
    const content = overlayContent(result)!;
    const frame = result.frames_data.find((f) => f.frame_index === result.representative_frame!.frame_index)!;
    // The point of the test: this frame's values are not the aggregate's.
    expect(Object.keys(frame.measurements!).some((k) => Math.abs(frame.measurements![k]! - result.aggregated_results.measurements[k]!) > 0.1)).toBe(true);
    expect(content.frame.index).toBe(frame.frame_index);
    expect([content.frame.heading, content.frame.note]).toEqual([`Frame ${frame.frame_index} · t = ${frame.timestamp.toFixed(2)} s`, 'measured on this picture']);
    expect([content.aggregate.heading, content.aggregate.note]).toEqual(['Clip result', `trimmed mean of ${result.aggregated_results.frames_used} frames`]);
    expect(content.frame.values.map((v) => [v.name, v.value])).toEqual(Object.entries(frame.measurements!));
    expect(content.aggregate.values.map((v) => [v.name, v.value])).toEqual(Object.entries(result.aggregated_results.measurements));

    const svg = buildOverlaySvg(1000, 700, content);
    expect(disagreements(svg, result)).toEqual([]);
    // The joints carry the frame's values too: knee, head, arm, elbow, spread and back callouts, all from this frame.
    const callouts = drawnTexts(svg).filter((t) => t.attrs['data-section'] === 'frame' && t.attrs['text-anchor'] === 'middle');
    expect(callouts.map((t) => t.attrs['data-measurement']).sort()).toEqual(Object.keys(frame.measurements!).sort());
    // ... and are drawn at this frame's joints: the knee arc has its vertex at the frame's own right knee.
    const [kx, ky] = frame.keypoints![14]!;
    expect(svg).toContain(`d="M ${Math.round(kx * 10) / 10} ${Math.round(ky * 10) / 10} L`);
  });

  it('fails when the frame values and the aggregate values are swapped', () => {
    const result = sideClip();
    const content = overlayContent(result)!;
    const swapped: OverlayContent = {
      ...content,
      frame: { ...content.frame, values: content.aggregate.values },
      aggregate: { ...content.aggregate, values: content.frame.values },
    };
    const problems = disagreements(buildOverlaySvg(1000, 700, swapped), result);
    expect(problems.some((p) => p.startsWith('frame '))).toBe(true);
    expect(problems.some((p) => p.startsWith('aggregate '))).toBe(true);
  });

  it('fails when the callouts at the joints show the aggregate (the bug the user saw)', () => {
    const result = sideClip();
    const content = overlayContent(result)!;
    const agg = result.aggregated_results.measurements;
    const marks = content.frame.marks.map((m) => (m.measurement ? { ...m, label: `x ${agg[m.measurement]}°` } : m));
    const problems = disagreements(buildOverlaySvg(1000, 700, { ...content, frame: { ...content.frame, marks } }), result);
    expect(problems.length).toBeGreaterThan(0);
  });

  it('draws another frame when asked, with its own time and values', () => {
    const result = sideClip();
    const other = result.frames_data.find((f) => f.frame_index !== result.representative_frame!.frame_index)!;
    const content = overlayContent(result, { frameIndex: other.frame_index })!;
    expect(content.frame.timestamp).toBe(other.timestamp);
    expect(disagreements(buildOverlaySvg(1000, 700, content), result)).toEqual([]);
  });

  it('a photo is one panel: frame 0, whose values are the result', () => {
    const result = photo();
    const content = overlayContent(result)!;
    expect(content.photo).toBe(true);
    expect(content.frame.index).toBe(0);
    expect(content.title).toBe('stance · front view (detected)');
    const svg = buildOverlaySvg(1000, 700, content);
    expect(drawnTexts(svg).some((t) => t.attrs['data-section'] === 'aggregate')).toBe(false);
    const panel = (role: string) => drawnTexts(svg).find((t) => t.attrs['data-role'] === role)?.text;
    expect([panel('heading'), panel('note')]).toEqual(['Photo (frame 0)', 'measured on this photo = the result']);
    expect(disagreements(svg, result)).toEqual([]);
    expect(overlayCaption(content)).toMatch(/^The photo as analysed/);
  });

  it('labels the view with how sure the detection is, and a declared view the frames do not show', () => {
    const auto = sideClip();
    expect(auto.view_confidence).toBe(1);
    expect(overlayContent(auto)!.title).toBe('stance · right view (detected in 100% of frames)');
    const declared = sideClip('left');
    expect(overlayContent(declared)!.title).toBe('stance · left view (as declared; detected right in 100% of frames)');
    expect(viewLabel({ ...auto, view_confidence: 0.52 })).toBe('right view (detected in 52% of frames: ambiguous)');
    expect(viewLabel({ ...auto, view: 'back', detected_view: 'front', view_confidence: 0.9 })).toBe('back view (as declared; front or back in 90% of frames)');
    expect(viewLabel({ ...auto, view_confidence: undefined })).toBe('right view (detected)');
    expect(viewLabel({ ...photo(rightFacingPose()), view: 'front' })).toBe('front view (as declared; the photo looks like a right view)');
  });

  it('has nothing to draw on a gap frame', () => {
    const frames = [poseFrame(0, null), poseFrame(2, toList(rightFacingPose()))];
    const result = detailed(mediaInfo('video', 4), frames);
    expect(overlayContent(result, { frameIndex: 0 })).toBeNull();
    expect(overlayContent(result)?.frame.index).toBe(2);
  });
});

describe('photo guides', () => {
  const plumbX = (svg: string) => /<line x1="([\d.]+)" y1="0" x2="\1" y2="700" [^>]*data-role="plumb-line"/.exec(svg)?.[1];

  it('puts the plumb line through the midpoint of the ankles in a front or back view', () => {
    for (const view of ['auto', 'back'] as const) {
      const content = overlayContent(photo(frontPose(), view))!;
      expect(content.guides).toEqual({ base: { x: 310, y: 600 } });
      const svg = buildOverlaySvg(1000, 700, content);
      expect(plumbX(svg)).toBe('310');
      expect(drawnTexts(svg).filter((t) => t.attrs['data-role'] === 'plumb-line').map((t) => t.text)).toEqual(['plumb line']);
    }
  });

  it('puts it through the ankle on the camera side in a side view, the other one when that is not seen', () => {
    // Right ankle (near) at x 360, left (far) at x 60.
    expect(overlayContent(photo(rightFacingPose(), 'right'))!.guides).toEqual({ base: { x: 360, y: 580 } });
    expect(overlayContent(photo(rightFacingPose(), 'left'))!.guides).toEqual({ base: { x: 60, y: 580 } });
    expect(overlayContent(photo(withScore(rightFacingPose(), 'right_ankle', 0.1), 'right'))!.guides).toEqual({ base: { x: 60, y: 580 } });
  });

  it('draws a faint grid through the base, under the skeleton; without seen ankles the grid alone', () => {
    const svg = buildOverlaySvg(1000, 700, overlayContent(photo())!);
    const grid = /<path d="([^"]*)" [^>]*stroke-opacity="([\d.]+)"[^>]*data-role="grid"/.exec(svg)!;
    // Square cells (1000 / 16 = 62.5 px), one line through the plumb line and one through the ankles.
    expect(grid[1]).toContain('M 310 0 V 700');
    expect(grid[1]).toContain('M 372.5 0 V 700');
    expect(grid[1]).toContain('M 0 600 H 1000');
    expect(grid[1]).toContain('M 0 537.5 H 1000');
    expect(Number(grid[2])).toBeLessThanOrEqual(0.5);
    const skeleton = svg.indexOf('stroke="#f8fafc"');
    expect(svg.indexOf('data-role="grid"')).toBeLessThan(skeleton);
    expect(svg.indexOf('data-role="plumb-line"')).toBeLessThan(skeleton);

    const noAnkle = overlayContent(photo(withScore(frontPose(), 'left_ankle', 0)))!;
    expect(noAnkle.guides).toEqual({ base: null });
    const without = buildOverlaySvg(1000, 700, noAnkle);
    expect(without).toContain('data-role="grid"');
    expect(without).not.toContain('plumb');
  });

  it('is only drawn on photos', () => {
    const content = overlayContent(sideClip())!;
    expect(content.guides).toBeNull();
    expect(buildOverlaySvg(1000, 700, content)).not.toMatch(/data-role="(grid|plumb-line)"/);
  });

  it('moves with the picture when it is scaled', () => {
    const scaled = scaleOverlayContent(overlayContent(photo())!, 0.5, 0.5);
    expect(scaled.guides).toEqual({ base: { x: 155, y: 300 } });
  });
});

describe('buildOverlaySvg', () => {
  it('escapes every text it writes, however the result was made, and keeps labels bounded', () => {
    const result = photo();
    const hostile = `<script>"&'${'x'.repeat(500)}`;
    const tampered = {
      ...result,
      frames_data: [{ ...result.frames_data[0]!, measurements: { ...result.frames_data[0]!.measurements!, [hostile]: 1 } }],
    } as DetailedResult;
    const content = overlayContent(tampered)!;
    const svg = buildOverlaySvg(1000, 700, { ...content, title: hostile });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;&quot;&amp;&#39;');
    expect(Math.max(...drawnTexts(svg).map((t) => t.text.length))).toBeLessThanOrEqual(500 + 12);
    expect(content.frame.values.find((v) => v.name === hostile)!.label.length).toBeLessThanOrEqual(40);
    expect(escapeXml('a<b')).toBe('a&lt;b');
  });

  it('keeps the panels off the body', () => {
    const content = overlayContent(sideClip())!;
    const svg = buildOverlaySvg(1000, 700, content);
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" rx="[\d.]+" fill="rgba\((?:15,23,42,0.82|8,47,73,0.88)\)/g)]
      .map((m) => m.slice(1).map(Number) as [number, number, number, number]);
    expect(rects).toHaveLength(2);
    const xs = content.frame.keypoints.filter((k) => k[2] > 0.3).map((k) => k[0]);
    const ys = content.frame.keypoints.filter((k) => k[2] > 0.3).map((k) => k[1]);
    for (const [x, y, w, h] of rects) {
      const apart = x > Math.max(...xs) || x + w < Math.min(...xs) || y > Math.max(...ys) || y + h < Math.min(...ys);
      expect(apart).toBe(true);
      expect(x + w).toBeLessThanOrEqual(1000);
      expect(y + h).toBeLessThanOrEqual(700);
    }
  });

  it('scales strokes and fonts with the image size', () => {
    const small = overlayContent(photo())!;
    const scaled = (k: readonly Keypoint[]) => k.map(([x, y, c]) => [x * 6, y * 6, c] as Keypoint);
    const big = { ...small, frame: { ...small.frame, keypoints: scaled(small.frame.keypoints), marks: [] } };
    const width = (svg: string) => Number(svg.match(/stroke="#f8fafc"[^>]*stroke-width="([\d.]+)"/)![1]);
    expect(width(buildOverlaySvg(3840, 2160, big)) / width(buildOverlaySvg(640, 480, small))).toBeCloseTo(6, 5);
  });

  it('colours keypoints from red (0) to green (1)', () => {
    expect(confidenceColour(0)).toBe('hsl(0, 90%, 50%)');
    expect(confidenceColour(1)).toBe('hsl(120, 90%, 50%)');
    expect(confidenceColour(0.5)).toBe('hsl(60, 90%, 50%)');
  });
});

describe('renderOverlayPng', () => {
  it('returns a PNG of the input size whose pixels change along the skeleton, the plumb line and in the panels only', async () => {
    const content = overlayContent(photo())!; // body inside x 200-425, y 90-600; the faint grid changes grey by less than `differs` sees
    const png = await renderOverlayPng(await greyJpeg(1000, 700), content);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1000, 700]);
    // midpoint of the left upper arm (400,200)→(420,300) and of the right shin (300,500)→(200,600)
    expect(differs(await pixel(png, 410, 250))).toBe(true);
    expect(differs(await pixel(png, 250, 550))).toBe(true);
    // bottom-left corner: away from the skeleton, the callouts, the title, the plumb line and the panel (top right)
    expect(differs(await pixel(png, 10, 690))).toBe(false);
  });

  it('draws the plumb line on a photo: a thin vertical line through the midpoint of the ankles, at any size', async () => {
    // Ankles at x 420 and 200 → the line at x 310, from top to bottom; above the head (y 90) and below the feet
    // (y 600) nothing else is drawn there.
    const isPlumb = ([r, g, b]: number[]) => r! > 180 && b! > 180 && g! < 170;
    const png = await renderOverlayPng(await greyJpeg(1000, 700), overlayContent(photo())!);
    expect(isPlumb(await pixel(png, 310, 640))).toBe(true);
    expect(isPlumb(await pixel(png, 310, 60))).toBe(true);
    expect(differs(await pixel(png, 330, 640))).toBe(false);
    const half = await renderOverlayPng(await greyJpeg(1000, 700), overlayContent(photo())!, { maxSide: 500 });
    expect(isPlumb(await pixel(half, 155, 320))).toBe(true);
    expect(differs(await pixel(half, 165, 320))).toBe(false);
  });

  it('draws on a picture scaled to maxSide, with the skeleton scaled alike', async () => {
    const png = await renderOverlayPng(await greyJpeg(1000, 700), overlayContent(photo())!, { maxSide: 500 });
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height]).toEqual([500, 350]);
    // the same bones as above, at half the coordinates
    expect(differs(await pixel(png, 205, 125))).toBe(true);
    expect(differs(await pixel(png, 125, 275))).toBe(true);
    expect(differs(await pixel(png, 5, 345))).toBe(false);
  });

  it('keeps every drawn value the frame\'s own when the picture is scaled', () => {
    const content = overlayContent(sideClip())!;
    const values = (svg: string) => drawnTexts(svg).filter((t) => t.attrs['data-measurement']).map((t) => `${t.attrs['data-section']} ${t.attrs['data-measurement']} ${t.text}`).sort();
    const full = values(buildOverlaySvg(1000, 700, content));
    expect(full.length).toBeGreaterThan(3);
    expect(values(buildOverlaySvg(250, 175, scaleOverlayContent(content, 0.25, 0.25)))).toEqual(full);
    const scaled = scaleOverlayContent(content, 0.25, 0.25);
    expect(scaled.frame.keypoints[0]).toEqual([content.frame.keypoints[0]![0] / 4, content.frame.keypoints[0]![1] / 4, content.frame.keypoints[0]![2]]);
  });

  it('draws a 12000 × 12000 photo at OVERLAY_MAX_SIDE, and a report with it stays under 1 MB', async () => {
    // Solid grey: small on disk (under 1 MB), 144 megapixels once decoded.
    const huge = await sharp({ create: { width: 12_000, height: 12_000, channels: 3, background: GREY } }).jpeg().toBuffer();
    const k = 12; // the 1000 × 700 pose, scaled onto the big picture
    const pose = toList(frontPose()).map(([x, y, s]) => [x * k, y * k, s] as Keypoint);
    const content = overlayContent(detailed({ ...mediaInfo('image', 1), width: 12_000, height: 12_000 }, [poseFrame(0, pose, 0)]))!;
    const png = await renderOverlayPng(huge, content);
    const meta = await sharp(png).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBe(OVERLAY_MAX_SIDE);
    expect(differs(await pixel(png, (410 * k * OVERLAY_MAX_SIDE) / 12_000, (250 * k * OVERLAY_MAX_SIDE) / 12_000))).toBe(true);
    const pdf = await renderAnalysisReport({
      analysis: { id: 'a1', session_id: 's1', model_name: 'cx', profile: 'stance', created_at: new Date(0) },
      user: { name: 'Ada', email: 'ada@example.com' },
      summary: 'Good posture.',
      views: [{ view: 'front', detected_view: 'front', overall_score: 80, metrics: [], feedback: [], overlayPng: png, warnings: [] }],
    });
    expect(pdf.toString('latin1')).toMatch(/\/Subtype \/Image/);
    expect(pdf.length).toBeLessThan(1024 * 1024);
  }, 120_000);
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
    const kps = entry.annotations[0]!.keypoints.map(([x, y, v]) => [x, y, v > 0 ? 1 : 0] as Keypoint);
    const result = detailed(mediaInfo('image', 1), [poseFrame(0, kps, 0)], 'front', 'upright');
    const image = readFileSync(new URL('coco_000000000785.jpg', DEV));
    const png = await renderOverlayPng(image, overlayContent(result)!);
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
