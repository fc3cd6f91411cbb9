import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resolveFfmpegPath } from './ffmpeg-path.ts';
import { grabFrame } from './frame-grab.ts';

const video = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/sports2d_demo.mp4');

/** Frame n of the video, selected by its number rather than by a time. */
async function frameNumber(n: number): Promise<Buffer> {
  const { stdout } = await promisify(execFile)(resolveFfmpegPath(),
    ['-v', 'error', '-i', video, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function pixels(png: Buffer): Promise<Buffer> {
  return sharp(png).raw().toBuffer();
}

describe('grabFrame', () => {
  // 30 fps: frame 2 is at 0.0667 s, stored rounded up as 0.067; frame 1 at 0.0333 s, rounded down to 0.033.
  it.each([[1, 0.033], [2, 0.067]])('grabs frame %i itself at its rounded timestamp %d s, not the next one', async (n, t) => {
    const [grabbed, wanted, next] = await Promise.all([grabFrame(video, 'video', t), frameNumber(n), frameNumber(n + 1)]);
    expect((await pixels(wanted)).equals(await pixels(next))).toBe(false);
    expect((await pixels(grabbed)).equals(await pixels(wanted))).toBe(true);
  });
});
