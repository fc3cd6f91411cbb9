import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPath, resolveFfprobePath } from './ffmpeg-path.ts';
import { sniffMedia } from './media-sniff.ts';
import { KeypointSmoother } from './one-euro-filter.ts';
import { decodedSize, decodeVideoFrames, probeVideo } from './video-decoder.ts';

const video = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/sports2d_demo.mp4');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-video-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('video decoding', () => {
  it('probes fps, size and frame count', async () => {
    const info = await probeVideo(video);
    expect(info).toMatchObject({ width: 1768, height: 994, fps: 30, frameCount: 230, rotation: 0 });
  });

  it('samples every 2nd frame with timestamps, downscaled to 720 with the scale kept', async () => {
    const seen: Array<{ index: number; t: number }> = [];
    let size = { w: 0, h: 0, sx: 0 };
    for await (const f of decodeVideoFrames(video, { frameStep: 2 })) {
      seen.push({ index: f.index, t: f.timestamp });
      size = { w: f.image.width, h: f.image.height, sx: f.scaleX };
      expect(f.image.data.length).toBe(f.image.width * f.image.height * 3);
    }
    expect(seen).toHaveLength(115);
    expect(seen[1]).toEqual({ index: 2, t: 0.067 });
    expect(seen.at(-1)).toEqual({ index: 228, t: 7.6 });
    expect(size.w).toBe(720);
    expect(size.sx).toBeCloseTo(1768 / 720, 3);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    let n = 0;
    for await (const _ of decodeVideoFrames(video, { frameStep: 5 })) if (++n === 3) break;
    expect(n).toBe(3);
  });

  it('honours rotation metadata', async () => {
    const rotated = path.join(dir, 'rotated.mp4');
    await promisify(execFile)(resolveFfmpegPath(), ['-v', 'error', '-y', '-i', video, '-t', '1', '-an', '-c', 'copy',
      '-metadata:s:v:0', 'rotate=90', rotated]);
    const info = await probeVideo(rotated);
    // ffmpeg builds disagree on the sign convention of an old `rotate` tag; what matters is the quarter turn.
    expect([90, 270]).toContain(info.rotation);
    expect([info.width, info.height]).toEqual([994, 1768]);
    const first = await decodeVideoFrames(rotated, { frameStep: 10 }).next();
    expect(first.value && [first.value.image.width, first.value.image.height]).toEqual([404, 720]);
  });

  it('rejects a file that is not a video, in words that name neither the file nor a memory address', async () => {
    const file = fileURLToPath(import.meta.url);
    const error = await probeVideo(file).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/corrupt or unreadable|no video stream/);
    expect(error?.message).not.toContain(path.basename(file));
    expect(error?.message).not.toMatch(/0x[0-9a-f]{4,}/i);
  });

  it('resolves binaries from an explicit option, then the environment', () => {
    expect(resolveFfmpegPath({ explicit: '/x/ffmpeg' })).toBe('/x/ffmpeg');
    expect(resolveFfmpegPath({ env: { FFMPEG_PATH: '/y/ffmpeg' } })).toBe('/y/ffmpeg');
    expect(resolveFfprobePath({ env: {} })).toMatch(/ffprobe/);
    expect(decodedSize(1920, 1080, 720)).toEqual({ width: 720, height: 406 });
  });
});

describe('media sniffing', () => {
  const b = (...xs: Array<number | string>): Uint8Array =>
    Uint8Array.from(xs.flatMap((x) => (typeof x === 'string' ? [...x].map((c) => c.charCodeAt(0)) : [x])));
  it.each([
    [b(0xff, 0xd8, 0xff, 0xe0), 'jpg'],
    [b(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a), 'png'],
    [b('RIFF', 0, 0, 0, 0, 'WEBP'), 'webp'],
    [b('RIFF', 0, 0, 0, 0, 'AVI '), 'avi'],
    [b(0, 0, 0, 0x20, 'ftypisom'), 'mp4'],
    [b(0, 0, 0, 0x14, 'ftypqt  '), 'mov'],
    [b(0x1a, 0x45, 0xdf, 0xa3, 0x42, 0x82, 0x84, 'webm'), 'webm'],
    [b(0x1a, 0x45, 0xdf, 0xa3, 0x42, 0x82, 0x88, 'matroska'), 'mkv'],
    [b(0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11), 'wmv'],
    [b('FLV', 1), 'flv'],
    [b('II*', 0), 'tiff'],
  ])('recognises %#', (head, format) => {
    expect(sniffMedia(head)?.format).toBe(format);
  });
  it('refuses text and empty input', () => {
    expect(sniffMedia(b('hello world'))).toBeNull();
    expect(sniffMedia(new Uint8Array())).toBeNull();
  });
});

describe('One-Euro smoothing', () => {
  it('damps jitter on a still point and follows a moving one', () => {
    const s = new KeypointSmoother();
    const out: number[] = [];
    for (let i = 0; i < 30; i++) out.push(s.smooth([[100 + (i % 2 ? 3 : -3), 100, 0.9]], i / 30, 200)[0]![0]);
    const late = out.slice(10);
    expect(Math.max(...late) - Math.min(...late)).toBeLessThan(3);
    const m = new KeypointSmoother();
    let last = 0;
    for (let i = 0; i < 30; i++) last = m.smooth([[i * 20, 0, 0.9]], i / 30, 200)[0]![0];
    expect(last).toBeGreaterThan(29 * 20 - 60);
  });
});
