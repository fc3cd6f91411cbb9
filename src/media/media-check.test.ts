import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPath } from '../pose/ffmpeg-path.ts';
import { MAX_IMAGE_PIXELS, MAX_VIDEO_SIDE } from '../pose/media-limits.ts';
import { createMediaCheck, type MediaCheckOptions } from './media-check.ts';

const run = promisify(execFile);

/** Streams `bytes` through a check in upload-sized chunks; the refusal, or null when the file is accepted. */
async function checkBytes(kind: 'image' | 'video', bytes: Buffer, options?: MediaCheckOptions): Promise<Error | null> {
  const check = createMediaCheck(kind, options);
  for (let at = 0; at < bytes.length; at += 64 * 1024) await check.write(bytes.subarray(at, at + 64 * 1024));
  check.end();
  return check.result.then(() => null, (error: Error) => error);
}

function solidJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } }).jpeg().toBuffer();
}

/** Something a user may read: no file path, no heap address, no decoder's bracketed context. */
function expectNoInternals(message: string): void {
  expect(message).not.toMatch(/0x[0-9a-f]{4,}/i);
  expect(message).not.toMatch(/(^|[\s(])\/\w|pipe:|\w:\\|@ |\[\w+[,\]]/);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-media-check-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function video(name: string, size: string): Promise<Buffer> {
  const file = path.join(dir, name);
  // ffv1 in Matroska takes any frame size, and one grey frame of it is small.
  await run(resolveFfmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', `color=c=gray:s=${size}:d=0.04:r=25`,
    '-frames:v', '1', '-c:v', 'ffv1', '-y', file]);
  return readFile(file);
}

describe('createMediaCheck', () => {
  it('accepts an image under the pixel bound and refuses one over it, saying the bound', async () => {
    expect(await checkBytes('image', await solidJpeg(1000, 700))).toBeNull();
    expect(MAX_IMAGE_PIXELS).toBe(40_000_000);
    const over = await solidJpeg(8000, 5001); // 40.008 megapixels, under 100 kB on disk
    expect(over.length).toBeLessThan(1024 * 1024);
    const refusal = await checkBytes('image', over);
    expect(refusal?.message).toBe('Image is too large: at most 40 megapixels are accepted; scale it down and upload again');
    // The bound is a setting of the check: the same picture passes a larger one.
    expect(await checkBytes('image', over, { maxImagePixels: 50_000_000 })).toBeNull();
  }, 60_000);

  it('refuses a video whose frames are over the side bound, and accepts one at it', async () => {
    expect(await checkBytes('video', await video('at.mkv', `${MAX_VIDEO_SIDE}x16`))).toBeNull();
    const refusal = await checkBytes('video', await video('over.mkv', `${MAX_VIDEO_SIDE + 8}x16`));
    expect(refusal?.message).toBe(`Video frames are too large (${MAX_VIDEO_SIDE + 8}×16 px): at most ${MAX_VIDEO_SIDE} px on a side are accepted`);
  }, 60_000);

  it('tells a corrupt image or video in fixed words, and logs the decoder\'s own', async () => {
    const logged: Array<{ details: { detail?: string }; message: string }> = [];
    const log = { warn: (details: object, message: string) => void logged.push({ details, message }) };
    const noise = { width: 640, height: 480, channels: 3 as const, background: '#808080', noise: { type: 'gaussian' as const, mean: 128, sigma: 30 } };
    const jpeg = await sharp({ create: noise }).jpeg().toBuffer();
    const corruptImage = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    // An mp4 header and nothing a demuxer can use: ffprobe answers "[mov,mp4,… @ 0x55…] moov atom not found".
    const corruptVideo = Buffer.concat([Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'), Buffer.alloc(50_000, 7)]);
    const image = await checkBytes('image', corruptImage, { log });
    const video = await checkBytes('video', corruptVideo, { log });
    expect(image?.message).toMatch(/^Image is corrupt or unreadable/);
    expect(video?.message).toMatch(/^Video is corrupt or unreadable/);
    for (const error of [image!, video!]) expectNoInternals(error.message);
    // What the decoders said is kept for the server log, where it belongs.
    expect(logged).toHaveLength(2);
    expect(logged[1]!.details.detail).toMatch(/moov atom not found/);
  }, 60_000);
});
