import { existsSync, watch } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAllFrames, probeVideoStream, topLevelAtoms } from './encoded-video.test-helper.ts';
import { encodeVideo, VideoEncodeError } from './video-encoder.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-encode-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A dark frame with a white 8 px square whose left edge is at x = 4 * i: each frame tells where it is. */
function squareFrame(i: number, width: number, height: number): Buffer {
  const frame = Buffer.alloc(width * height * 3, 30);
  for (let y = 8; y < 16; y++) frame.fill(255, (y * width + 4 * i) * 3, (y * width + 4 * i + 8) * 3);
  return frame;
}

async function* squares(count: number, width: number, height: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < count; i++) yield squareFrame(i, width, height);
}

describe('encodeVideo', () => {
  it('writes the frames in order as a faststart H.264 MP4 at the given rate, odd sides padded to even', async () => {
    const file = path.join(dir, 'squares.mp4');
    const result = await encodeVideo(squares(12, 65, 49), file, { width: 65, height: 49, fps: 7.5 });
    expect(result).toEqual({ frames: 12, width: 66, height: 50 });
    const stream = await probeVideoStream(file);
    expect(stream).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 66, height: 50, nb_frames: '12', avg_frame_rate: '15/2' });
    // faststart: the index a player needs first comes before the media data.
    const atoms = await topLevelAtoms(file);
    expect(atoms).toContain('mdat');
    expect(atoms.indexOf('moov')).toBeGreaterThanOrEqual(0);
    expect(atoms.indexOf('moov')).toBeLessThan(atoms.indexOf('mdat'));
    // Frame 5's square is at x 20-27, not at frame 4's (16-23) left edge: the frames are the ones given, in order.
    const frame5 = (await decodeAllFrames(file, 66, 50))[5]!;
    const red = (x: number, y: number) => frame5[(y * 66 + x) * 3]!;
    expect(red(24, 12)).toBeGreaterThan(200);
    expect(red(17, 12)).toBeLessThan(80);
  });

  it('writes a frame only once the pipe has taken the previous one (backpressure)', async () => {
    // An "ffmpeg" that never reads its stdin: the first 4 MB frame can never drain.
    const stalled = path.join(dir, 'stalled-ffmpeg.sh');
    await writeFile(stalled, '#!/bin/sh\nexec sleep 600\n');
    await chmod(stalled, 0o755);
    let yielded = 0;
    async function* big(): AsyncGenerator<Buffer> {
      while (yielded < 3) {
        yielded++;
        yield Buffer.alloc(1280 * 1080 * 3);
      }
    }
    const controller = new AbortController();
    const file = path.join(dir, 'stalled.mp4');
    const encoding = encodeVideo(big(), file, { width: 1280, height: 1080, fps: 30, ffmpegPath: stalled, signal: controller.signal });
    try {
      // An encoder that did not wait would ask for the next frame in the same turn of the event loop.
      for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
      expect(yielded).toBe(1);
    } finally {
      controller.abort(new Error('stop'));
    }
    await expect(encoding).rejects.toThrow('stop');
  });

  it('on abort kills ffmpeg and removes the partial file', async () => {
    const file = path.join(dir, 'aborted.mp4');
    const controller = new AbortController();
    // ffmpeg creates the file as it starts; the abort comes once it is there, while frames still flow.
    const watcher = watch(dir, (_, name) => name === 'aborted.mp4' && controller.abort(new Error('user cancelled')));
    // Like a decoder, the source waits for I/O between frames (here one turn of the event loop).
    async function* endless(): AsyncGenerator<Buffer> {
      for (let i = 0; ; i++) {
        await new Promise(setImmediate);
        yield squareFrame(i % 14, 64, 48);
      }
    }
    try {
      await expect(encodeVideo(endless(), file, { width: 64, height: 48, fps: 30, signal: controller.signal })).rejects.toThrow('user cancelled');
    } finally {
      watcher.close();
    }
    expect(controller.signal.aborted).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('reports the tail of ffmpeg\'s stderr when ffmpeg fails', async () => {
    const file = path.join(dir, 'no-such-dir', 'out.mp4');
    const error = await encodeVideo(squares(3, 64, 48), file, { width: 64, height: 48, fps: 30 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(VideoEncodeError);
    expect((error as Error).message).toMatch(/^ffmpeg exited 1: .*No such file or directory/s);
  });

  it('refuses a frame of the wrong size and leaves no file', async () => {
    const file = path.join(dir, 'wrong-size.mp4');
    // The bad frame comes once ffmpeg has created the file, so there is a partial file to remove.
    const created = new Promise<void>((resolve) => {
      const watcher = watch(dir, (_, name) => name === 'wrong-size.mp4' && (watcher.close(), resolve()));
    });
    async function* wrong(): AsyncGenerator<Buffer> {
      yield squareFrame(0, 64, 48);
      await created;
      yield Buffer.alloc(10);
    }
    await expect(encodeVideo(wrong(), file, { width: 64, height: 48, fps: 30 })).rejects.toThrow('frame 1 has 10 bytes, not 9216');
    expect(existsSync(file)).toBe(false);
  });

  it('says so when ffmpeg cannot be run', async () => {
    const file = path.join(dir, 'none.mp4');
    await expect(encodeVideo(squares(1, 64, 48), file, { width: 64, height: 48, fps: 30, ffmpegPath: path.join(dir, 'no-ffmpeg') }))
      .rejects.toThrow('ffmpeg not found');
  });
});
