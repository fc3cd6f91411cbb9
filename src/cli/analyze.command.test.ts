import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePoseEstimator, type PoseEstimator } from '../pose/pose-estimator.ts';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';
import { runAnalyzeCommand } from './analyze.command.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
let dir = '';

async function run(argv: string[], estimator: PoseEstimator = new FakePoseEstimator(['cx', 'gy', 'movenet-thunder'])): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAnalyzeCommand(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, {
    estimator,
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
    expect(r.err).toMatch(/Image is corrupt or unreadable/);
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
    for (const height of ['1.8', '300', 'tall']) {
      const h = await run(['x.jpg', '--height-cm', height]);
      expect(h.code).toBe(64);
      expect(h.err).toMatch(/--height-cm must be the subject's height in centimetres, from 50 to 250/);
    }
  });

  it('prints every measurement with its unit and every score in %', async () => {
    // A side view of the fake figure: angles (°) and a distance (cm).
    const r = await run([path.join(fixtures, 'coco_000000000785.jpg'), '--view', 'left']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/overall score \d+\/100\n/);
    expect(r.out).toMatch(/^scores:\n {2}knee_angle +[\d.]+ %$/m);
    expect(r.out).toMatch(/^ {2}knee_angle +[\d.]+°$/m);
    expect(r.out).toMatch(/^ {2}leg_spread +[\d.]+ cm$/m);
    const measurements = r.out.split('measurements:\n')[1]!.split('\n').filter((l) => l.startsWith('  '));
    expect(measurements.length).toBeGreaterThan(2);
    for (const line of measurements) expect(line).toMatch(/(°| cm)$/);
  });

  it('states the scale of its centimetres: the given height, else an estimate', async () => {
    const image = path.join(fixtures, 'coco_000000000785.jpg');
    const given = JSON.parse((await run([image, '--json', '--height-cm', '180'])).out) as { scale: { source: string; height_cm?: number } | null };
    const estimated = JSON.parse((await run([image, '--json'])).out) as { scale: { source: string } | null };
    expect(given.scale).toMatchObject({ source: 'subject_height', height_cm: 180 });
    expect(estimated.scale).toMatchObject({ source: 'estimated' });
  });
});

describe('postura analyze: who is analysed', () => {
  // The real locator on the two-person demo (the man on the roof, the woman walking below him).
  let pool: PoseEstimator;
  const video = path.join(fixtures, 'sports2d_demo.mp4');
  beforeAll(() => {
    pool = createPoseWorkerPool({ models: ['cx'], size: 1 });
  });
  afterAll(() => pool.close());

  it('--list-people lists everybody on the keyframes and marks the subject', async () => {
    const r = await run([video, '--list-people', '--frame-step', '15'], pool);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').filter((l) => / person \d+: seen on \d+ of \d+ keyframes/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const marked = lines.filter((l) => l.startsWith('*'));
    expect(marked).toHaveLength(1);
    const subject = /person (\d+):/.exec(marked[0]!)![1];
    expect(r.out).toContain(`subject: person ${subject} (auto: the person visible longest`);
  }, 120_000);

  it('--person N of nobody there exits 2 and lists the people found', async () => {
    const r = await run([video, '--person', '99', '--frame-step', '15'], pool);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: person 99 chosen by the user: nobody there\. People found \(--list-people\):\n/m);
    expect(r.err.match(/ person \d+: seen on/g)?.length).toBeGreaterThanOrEqual(2);
    expect(r.out).toBe('');
  }, 120_000);

  it('refuses a --person that is no person number and a --person-at that is no point, with exit 64', async () => {
    for (const bad of ['0', '1.5', 'two', '640,360']) {
      const r = await run(['x.mp4', '--person', bad]);
      expect(r.code, bad).toBe(64);
      expect(r.err).toMatch(/^error: --person must be a person number from --list-people\n/);
    }
    for (const bad of ['640;360', '640', '640,360@', '640,360@-2', 'x,y', 'auto']) {
      const r = await run(['x.mp4', `--person-at=${bad}`]);
      expect(r.code, bad).toBe(64);
      expect(r.err).toMatch(/^error: --person-at takes X,Y in pixels of the original picture, optionally @T seconds \(e\.g\. 640,360@2\.5\)\n/);
    }
  });
});
