import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaCheck } from '../media/media-check.ts';
import { chooseFfmpeg, type FfmpegChoiceDeps, parseFfmpegMajor } from './ffmpeg-path.ts';
import { decodeVideoFrames, probeVideo } from './video-decoder.ts';

const BUNDLED = '/bundle/ffmpeg';
const SNAPSHOT = 'ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/';

/** A machine whose `ffmpeg -version` answers `system` (null: no ffmpeg on PATH). */
function machine(system: string | null, env: Record<string, string | undefined> = {}): FfmpegChoiceDeps {
  return {
    env,
    probeVersion: (binary) => (binary === 'ffmpeg' ? system : binary === BUNDLED ? SNAPSHOT : null),
    bundledPath: () => BUNDLED,
  };
}

describe('choosing the ffmpeg build', () => {
  it('reads major versions of releases and distribution builds; a git snapshot has none', () => {
    expect(parseFfmpegMajor('ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023')).toBe(6);
    expect(parseFfmpegMajor('ffmpeg version n5.1.4 Copyright')).toBe(5);
    expect(parseFfmpegMajor(SNAPSHOT)).toBeNull();
    expect(parseFfmpegMajor(null)).toBeNull();
  });

  it('prefers a system ffmpeg of version 5 or newer over the bundled one', () => {
    expect(chooseFfmpeg(machine('ffmpeg version 6.1.1-3ubuntu5'))).toEqual({ path: 'ffmpeg', source: 'system', version: 6 });
    expect(chooseFfmpeg(machine('ffmpeg version 5.0 Copyright'))).toMatchObject({ source: 'system', version: 5 });
  });

  it('keeps the bundled one when the system one is older, unversioned or absent', () => {
    for (const system of ['ffmpeg version 4.4.2-0ubuntu0.22.04.1', SNAPSHOT, null]) {
      expect(chooseFfmpeg(machine(system))).toEqual({ path: BUNDLED, source: 'bundled', version: null });
    }
  });

  it('lets FFMPEG_PATH win over both, and falls back to PATH when nothing is bundled', () => {
    expect(chooseFfmpeg(machine('ffmpeg version 7.0', { FFMPEG_PATH: '/opt/ffmpeg' }))).toMatchObject({ path: '/opt/ffmpeg', source: 'env' });
    expect(chooseFfmpeg({ ...machine(null), bundledPath: () => undefined })).toEqual({ path: 'ffmpeg', source: 'path', version: null });
  });
});

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/sports2d_demo.mp4');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-ffmpeg-guards-'));
  await copyFile(fixture, path.join(dir, 'other.mp4'));
  // Named like an upload: what a decoder sees. Each one, unguarded, decodes `other.mp4` in its place.
  await writeFile(path.join(dir, 'concat.mp4'), 'ffconcat version 1.0\nfile other.mp4\n');
  await writeFile(path.join(dir, 'playlist.mp4'), '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nother.mp4\n#EXT-X-ENDLIST\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('input guards of ffmpeg and ffprobe', () => {
  it.each(['concat.mp4', 'playlist.mp4'])('refuse %s, which names another local file, at the probe and the decoder', async (name) => {
    const file = path.join(dir, name);
    await expect(probeVideo(file)).rejects.toThrow();
    const decoding = decodeVideoFrames(file, {
      frameStep: 30, info: { width: 1768, height: 994, fps: 30, frameCount: 230, duration: 7.7, rotation: 0, codec: 'h264' },
    });
    await expect(decoding.next()).rejects.toThrow();
  });

  it('refuse a concat list sent to the upload check, and still pass a real video', async () => {
    const check = async (body: string | Buffer) => {
      const media = createMediaCheck('video');
      await media.write(typeof body === 'string' ? Buffer.from(body) : body);
      media.end();
      return media.result.then(() => 'accepted', () => 'refused');
    };
    expect(await check(`ffconcat version 1.0\nfile ${path.join(dir, 'other.mp4')}\n`)).toBe('refused');
    const { readFile } = await import('node:fs/promises');
    expect(await check(await readFile(fixture))).toBe('accepted');
  });
});
