import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameSpool } from './frame-spool.ts';
import type { VideoFrame } from './video-decoder.ts';

const frame = (index: number, width = 6, height = 4): VideoFrame => ({
  index, timestamp: index / 30, scaleX: 2, scaleY: 2,
  image: { data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7 + index) % 256), width, height },
});

describe('FrameSpool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'postura-spool-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gives back every frame it kept, byte for byte and in order, then leaves nothing behind', async () => {
    const spool = await FrameSpool.create({ dir });
    // Nothing to leave behind even if this process is killed: the file has no name from the start.
    expect(await readdir(dir)).toEqual([]);
    const frames = [0, 3, 6, 9].map((i) => frame(i));
    for (const f of frames) expect(await spool.append(f)).toBe(true);
    spool.close();
    expect(spool.complete).toBe(true);
    const back: VideoFrame[] = [];
    for await (const f of spool.frames()) back.push({ ...f, image: { ...f.image, data: Uint8Array.from(f.image.data) } });
    expect(back).toEqual(frames);
    await spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives up past its budget: incomplete, and reading it is an error rather than a partial video', async () => {
    const spool = await FrameSpool.create({ dir, maxBytes: 2 * 6 * 4 * 3 });
    expect(await spool.append(frame(0))).toBe(true);
    expect(await spool.append(frame(1))).toBe(true);
    expect(await spool.append(frame(2))).toBe(false);
    expect(await spool.append(frame(3))).toBe(false);
    spool.close();
    expect(spool.complete).toBe(false);
    await expect(spool.frames().next()).rejects.toThrow(/incomplete/);
    await spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });
});
