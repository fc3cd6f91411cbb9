// Issue 13, item 10: decoding may run on the bundled 2018 ffmpeg or on a system ffmpeg >= 5, whichever the machine
// has; the hostile-media guards must hold on every build the server can choose, not only the one chosen here.
// Each build found on this machine gets the same attacks: a concat list and an HLS playlist, named like an upload,
// that point at another local file (read in the upload's place when unguarded), and a real video still decoded.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFfmpegMajor } from '../../src/pose/ffmpeg-path.ts';
import { decodeVideoFrames, probeVideo, type VideoInfo } from '../../src/pose/video-decoder.ts';

const require = createRequire(import.meta.url);
const installed = (pkg: string): string | null => {
  try {
    return (require(pkg) as { path?: string }).path ?? null;
  } catch {
    return null;
  }
};
const versionLine = (binary: string): string | null => {
  const run = spawnSync(binary, ['-version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  return run.status === 0 ? run.stdout.split('\n')[0] ?? null : null;
};

/** Every ffmpeg build `chooseFfmpeg` could pick on this machine: the bundled one, and a system one of version 5+. */
const ffmpegBuilds: Array<[string, string | null]> = [
  ['bundled ffmpeg (@ffmpeg-installer)', installed('@ffmpeg-installer/ffmpeg')],
  ['system ffmpeg >= 5 on PATH', (parseFfmpegMajor(versionLine('ffmpeg')) ?? 0) >= 5 ? 'ffmpeg' : null],
];
const ffprobeBuilds: Array<[string, string | null]> = [
  ['bundled ffprobe (@ffprobe-installer)', installed('@ffprobe-installer/ffprobe')],
  ['system ffprobe on PATH', versionLine('ffprobe') ? 'ffprobe' : null],
];

const fixture = path.resolve('test/fixtures/sports2d_demo.mp4');
const FIXTURE_INFO: VideoInfo = { width: 1768, height: 994, fps: 30, frameCount: 230, duration: 7.7, rotation: 0, codec: 'h264' };
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-hostile-builds-'));
  await copyFile(fixture, path.join(dir, 'other.mp4'));
  await writeFile(path.join(dir, 'concat.mp4'), 'ffconcat version 1.0\nfile other.mp4\n');
  await writeFile(path.join(dir, 'playlist.mp4'), '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nother.mp4\n#EXT-X-ENDLIST\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(ffmpegBuilds)('hostile media decoded by the %s', (_name, binary) => {
  it.skipIf(binary === null).each(['concat.mp4', 'playlist.mp4'])('refuses %s, which names another local file', async (name) => {
    const decoding = decodeVideoFrames(path.join(dir, name), { ffmpegPath: binary!, frameStep: 30, info: FIXTURE_INFO });
    await expect(decoding.next()).rejects.toThrow();
  });

  it.skipIf(binary === null)('still decodes a real upload', async () => {
    const decoding = decodeVideoFrames(fixture, { ffmpegPath: binary!, frameStep: 30, info: FIXTURE_INFO });
    const first = await decoding.next();
    await decoding.return(undefined);
    expect(first.done).toBe(false);
  });
});

describe.each(ffprobeBuilds)('hostile media probed by the %s', (_name, binary) => {
  it.skipIf(binary === null).each(['concat.mp4', 'playlist.mp4'])('refuses %s, which names another local file', async (name) => {
    await expect(probeVideo(path.join(dir, name), { ffprobePath: binary! })).rejects.toThrow();
  });

  it.skipIf(binary === null)('still probes a real upload', async () => {
    expect(await probeVideo(fixture, { ffprobePath: binary! })).toMatchObject({ width: 1768, height: 994 });
  });
});
