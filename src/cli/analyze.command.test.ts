import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePoseEstimator } from '../pose/pose-estimator.ts';
import { runAnalyzeCommand } from './analyze.command.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
let dir = '';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAnalyzeCommand(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, {
    estimator: new FakePoseEstimator(['cx', 'gy', 'movenet-thunder']),
  });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('postura analyze', () => {
  it('prints a detailed JSON result for an image', async () => {
    const r = await run([path.join(fixtures, 'coco_000000000785.jpg'), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as Record<string, unknown>;
    expect(doc).toMatchObject({ file_type: 'image', model: 'cx', total_frames: 1, processed_frames: 1 });
    expect((doc.frames_data as Array<{ keypoints: unknown[] }>)[0]!.keypoints).toHaveLength(17);
  });

  it('prints a progress bar and per-frame timestamps for a video', async () => {
    const r = await run([path.join(fixtures, 'sports2d_demo.mp4'), '--json', '--frame-step', '5']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('100%');
    const doc = JSON.parse(r.out) as { fps: number; frame_skip: number; frames_data: Array<{ frame_index: number; timestamp: number }> };
    expect(doc.frame_skip).toBe(5);
    expect(doc.frames_data).toHaveLength(46);
    expect(doc.frames_data[3]).toMatchObject({ frame_index: 15, timestamp: 0.5 });
  });

  it.each([
    ['an empty file', '', /empty/],
    ['a text file', 'hello, this is not a picture', /unsupported file type/],
  ])('rejects %s with a clear message', async (_l, content, message) => {
    const f = path.join(dir, `f-${Math.random()}.jpg`);
    await writeFile(f, content);
    const r = await run([f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('rejects a truncated JPEG and a truncated video', async () => {
    const jpg = path.join(dir, 'trunc.jpg');
    await writeFile(jpg, (await readFile(path.join(fixtures, 'coco_000000000785.jpg'))).subarray(0, 4000));
    const r = await run([jpg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/corrupt image/);
    const mp4 = path.join(dir, 'trunc.mp4');
    await writeFile(mp4, (await readFile(path.join(fixtures, 'sports2d_demo.mp4'))).subarray(0, 2000));
    const v = await run([mp4]);
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/corrupt video/);
  });

  it('rejects missing files, unknown models and bad options', async () => {
    expect((await run([path.join(dir, 'missing.png')])).err).toMatch(/file not found/);
    const m = await run([path.join(fixtures, 'coco_000000000785.jpg'), '--model', 'zz']);
    expect(m.code).toBe(64);
    expect(m.err).toMatch(/Invalid model: zz/);
    expect((await run(['--view', 'up', 'x.jpg'])).err).toMatch(/invalid view/);
  });
});
