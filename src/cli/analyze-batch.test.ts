import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetailedResult } from '../analysis/view-analysis.ts';
import { fakeStandingPose, FakePoseEstimator } from '../pose/pose-estimator.ts';
import { probeVideo } from '../pose/video-decoder.ts';
import { planBatch } from './analyze-batch.ts';
import { expandInputs } from './analyze-inputs.ts';
import { summaryCsv } from './analyze-summary.ts';
import { runAnalyzeCommand } from './analyze.command.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
let dir = '';
/** clips/: the two fixtures, a "photo" that is text, an empty picture, and a note that is no media at all. */
let clips = '';
let results = '';
let batch: Run;

type Run = { code: number; out: string; err: string };

const BLANK_WIDTH = 64;

/** The fake estimator, counting every call: a check that must come before any analysis leaves both at zero. */
class CountingEstimator extends FakePoseEstimator {
  located = 0;
  constructor() {
    // Nobody in the small empty picture.
    super(['cx'], (image) => (image.width === BLANK_WIDTH ? null : fakeStandingPose(image.width, image.height)));
  }
  override people(...args: Parameters<FakePoseEstimator['people']>): ReturnType<FakePoseEstimator['people']> {
    this.located++;
    return super.people(...args);
  }
  get used(): number {
    return this.calls.length + this.located;
  }
}

async function run(argv: string[], estimator = new CountingEstimator()): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runAnalyzeCommand(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, { estimator });
  return { code, out, err };
}

/** RFC 4180 as summaryCsv writes it: CRLF rows, quoted cells with doubled quotes. */
function parseCsv(text: string): Array<Record<string, string>> {
  const rows = text.trimEnd().split('\r\n').map((line) => {
    const cells: string[] = [];
    for (let i = 0; i <= line.length;) {
      if (line[i] === '"') {
        let cell = '';
        for (i++; !(line[i] === '"' && line[i + 1] !== '"'); i++) cell += line[i] === '"' ? line[++i] : line[i];
        cells.push(cell);
        i += 2;
      } else {
        const end = line.indexOf(',', i) === -1 ? line.length : line.indexOf(',', i);
        cells.push(line.slice(i, end));
        i = end + 1;
      }
    }
    return cells;
  });
  const [header, ...body] = rows;
  return body.map((cells) => Object.fromEntries(header!.map((name, i) => [name, cells[i]!])));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-cli-batch-'));
  clips = path.join(dir, 'clips');
  results = path.join(dir, 'results');
  await mkdir(clips);
  await copyFile(path.join(fixtures, 'coco_000000000785.jpg'), path.join(clips, 'coco_000000000785.jpg'));
  await copyFile(path.join(fixtures, 'sports2d_demo.mp4'), path.join(clips, 'sports2d_demo.mp4'));
  await writeFile(path.join(clips, 'broken.jpg'), 'not a picture');
  await sharp({ create: { width: BLANK_WIDTH, height: 48, channels: 3, background: '#888' } }).png().toFile(path.join(clips, 'blank.png'));
  await writeFile(path.join(clips, 'notes.txt'), 'not media');
  // A side view, so that the clip has angles to chart.
  batch = await run([clips, '--out', results, '--frame-step', '5', '--view', 'left']);
  // After the batch: a file named like the photo's folder-to-be, in the way of `--out clips`.
  await writeFile(path.join(clips, 'coco_000000000785'), 'in the way');
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('postura analyze --out: a batch', () => {
  it('writes one summary row per file, in name order, the bad one with its error, and exits 2', async () => {
    expect(batch.code).toBe(2);
    const rows = parseCsv(await readFile(path.join(results, 'summary.csv'), 'utf8'));
    expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['file', 'status', 'file_type', 'view', 'detected_view', 'frames_analysed',
      'frames_with_subject', 'overall_score', 'knee_angle_deg', 'foot_to_shoulder_offset_left_cm']));
    const [blank, broken, photo, clip] = rows;
    expect(rows.map((r) => path.basename(r.file!))).toEqual(['blank.png', 'broken.jpg', 'coco_000000000785.jpg', 'sports2d_demo.mp4']);
    expect(blank).toMatchObject({ status: 'nobody found', file_type: 'image', frames_analysed: '1', frames_with_subject: '0', overall_score: '' });
    expect(broken!.status).toMatch(/^error: unsupported file type/);
    expect(broken!.overall_score).toBe('');
    expect(photo).toMatchObject({ status: 'ok', file_type: 'image', view: 'left', frames_analysed: '1', frames_with_subject: '1' });
    expect(clip).toMatchObject({ status: 'ok', file_type: 'video', view: 'left', frames_analysed: '46', frames_with_subject: '46' });
    const result = JSON.parse(await readFile(path.join(results, 'sports2d_demo', 'result.json'), 'utf8')) as DetailedResult;
    expect(Number(clip!.overall_score)).toBe(result.aggregated_results.overall_score);
    expect(Number(clip!.knee_angle_deg)).toBe(result.aggregated_results.measurements.knee_angle);
    expect(batch.out).toBe(`4 file(s): 2 ok, 1 with nobody found, 1 failed; summary: ${path.join(results, 'summary.csv')}\n`);
  });

  it('gives each analysed file a folder: result, overlay (png for a photo, mp4 for a video), CSV, OpenSim files, charts', async () => {
    expect((await readdir(results)).sort()).toEqual(['blank', 'coco_000000000785', 'sports2d_demo', 'summary.csv']);
    // Nobody to draw or to chart: the rest is there, gaps and all.
    expect((await readdir(path.join(results, 'blank'))).sort()).toEqual(['blank.mot', 'blank.trc', 'frames.csv', 'result.json']);
    expect((await readdir(path.join(results, 'coco_000000000785'))).sort())
      .toEqual(['coco_000000000785.mot', 'coco_000000000785.trc', 'frames.csv', 'overlay.png', 'result.json']);
    expect((await readdir(path.join(results, 'sports2d_demo'))).sort()).toEqual(['frames.csv', 'overlay.mp4', 'result.json', 'sports2d_demo.mot',
      'sports2d_demo.trc', 'sports2d_demo_left_angles.png', 'sports2d_demo_left_angles.svg']);
    expect(await sharp(path.join(results, 'coco_000000000785', 'overlay.png')).metadata()).toMatchObject({ format: 'png', width: 640, height: 425 });
    expect(await probeVideo(path.join(results, 'sports2d_demo', 'overlay.mp4'))).toMatchObject({ frameCount: 46 });
  });

  it('shows file n/N with its progress on plain lines for a pipe, a few per file and not one per frame', () => {
    const lines = batch.err.trimEnd().split('\n');
    expect(lines).toContain('[2/4] broken.jpg');
    expect(lines).toContainEqual(expect.stringMatching(/^\[1\/4\] blank\.png: nobody found \(\d+\.\d s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[2\/4\] broken\.jpg: error: unsupported file type.* \(\d+\.\d s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[3\/4\] coco_000000000785\.jpg: ok \(\d+\.\d s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[4\/4\] sports2d_demo\.mp4 100% 46\/46 frames, \d+:\d\d elapsed, ETA \d+:\d\d$/));
    // Its start, at most five quarters (0 to 100%), the writing of its results and its end.
    expect(lines.filter((l) => l.startsWith('[4/4]')).length).toBeLessThanOrEqual(8);
  });

  it('gives a file the numbers it gets alone, and writes what --csv, --trc, --mot, --plots and --overlay .mp4 ask for', async () => {
    const video = path.join(clips, 'sports2d_demo.mp4');
    const one = path.join(dir, 'one');
    await mkdir(one);
    const target = (name: string): string => path.join(one, name);
    const r = await run([video, '--frame-step', '5', '--view', 'left', '--json', '--csv', target('f.csv'), '--trc', target('f.trc'),
      '--mot', target('f.mot'), '--plots', target('charts'), '--overlay', target('o.mp4')]);
    expect(r.code).toBe(0);
    const alone = JSON.parse(r.out) as DetailedResult;
    const inBatch = JSON.parse(await readFile(path.join(results, 'sports2d_demo', 'result.json'), 'utf8')) as DetailedResult;
    expect(alone.aggregated_results).toEqual(inBatch.aggregated_results);
    expect(alone.frames_data).toEqual(inBatch.frames_data);

    expect((await readFile(target('f.csv'), 'utf8')).trimEnd().split('\r\n')).toHaveLength(1 + 46);
    const trc = (await readFile(target('f.trc'), 'utf8')).trimEnd().split('\n');
    expect(trc[0]).toMatch(/^PathFileType\t4\t\(X\/Y\/Z\)\tsports2d_demo\t/);
    expect(trc).toHaveLength(5 + 46);
    const mot = await readFile(target('f.mot'), 'utf8');
    expect(mot).toMatch(/^sports2d_demo\nversion=1\nnRows=46\n/);
    expect(mot.split('endheader\n')[1]!.trimEnd().split('\n')[0]).toMatch(/^time\tknee_angle\t/);
    expect((await readdir(target('charts'))).sort()).toEqual(['sports2d_demo_left_angles.png', 'sports2d_demo_left_angles.svg']);
    expect(await readFile(path.join(target('charts'), 'sports2d_demo_left_angles.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(await sharp(path.join(target('charts'), 'sports2d_demo_left_angles.png')).metadata()).toMatchObject({ format: 'png' });
    expect(await probeVideo(target('o.mp4'))).toMatchObject({ frameCount: 46 });
  }, 60_000);
});

describe('postura analyze: refusals before any analysis', () => {
  it.each([
    ['an overlay in a missing folder', ['--overlay', '/nonexistent/dir/x.png'], 'cannot write --overlay /nonexistent/dir/x.png: folder /nonexistent/dir does not exist'],
    ['a CSV where a folder is', ['--csv', '{dir}'], 'cannot write --csv {dir}: it is a folder'],
    ['charts in a file', ['--plots', '{dir}/clips/broken.jpg'], 'cannot write --plots {dir}/clips/broken.jpg: it is a file, not a folder'],
    ['charts under a file', ['--plots', '{dir}/clips/broken.jpg/charts'], 'cannot write --plots {dir}/clips/broken.jpg/charts: part of that path is a file, not a folder'],
    ['--out under a missing folder', ['--out', '{dir}/missing/results'], 'cannot write --out {dir}/missing/results: folder {dir}/missing does not exist'],
    ['--out on a file', ['--out', '{dir}/clips/broken.jpg'], 'cannot write --out {dir}/clips/broken.jpg: it is a file, not a folder'],
    ['--out whose file folder is a file', ['--out', '{dir}/clips'], 'cannot write --out {dir}/clips/coco_000000000785: it is a file, not a folder'],
  ])('refuses %s with one line and exit 2, estimating nothing', async (_label, options, message) => {
    const fill = (s: string): string => s.replaceAll('{dir}', dir);
    const estimator = new CountingEstimator();
    const r = await run([path.join(clips, 'coco_000000000785.jpg'), ...options.map(fill)], estimator);
    expect(r.err).toBe(`error: ${fill(message)}\n`);
    expect(r.code).toBe(2);
    expect(estimator.used).toBe(0);
  });

  it('asks for --out for a folder, a glob or several files, and refuses an overlay video of a photo (exit 64)', async () => {
    const estimator = new CountingEstimator();
    const photo = path.join(clips, 'coco_000000000785.jpg');
    const folder = await run([clips], estimator);
    expect(folder.code).toBe(64);
    expect(folder.err.split('\n')[0]).toBe(`error: ${clips} is a folder: analyse a batch with --out DIR (a folder of results per file, and DIR/summary.csv)`);
    expect((await run([`${clips}/*.jpg`], estimator)).err).toMatch(/^error: .*\/clips\/\*\.jpg is a pattern: analyse a batch with --out DIR/);
    expect((await run([photo, photo], estimator)).err).toMatch(/^error: 2 inputs given: analyse a batch with --out DIR/);
    const video = await run([photo, '--overlay', path.join(dir, 'o.mp4')], estimator);
    expect(video.code).toBe(64);
    expect(video.err.split('\n')[0]).toBe(`error: --overlay ${path.join(dir, 'o.mp4')}: an overlay video needs a video, and ${photo} is a photo (use --overlay <name>.png)`);
    const none = await run([`${clips}/*.avi`, '--out', results], estimator);
    expect(none).toMatchObject({ code: 2, err: `error: no file matches ${clips}/*.avi\n` });
    expect(estimator.used).toBe(0);
  });
});

describe('batch inputs and summary', () => {
  it('takes a folder\'s photos and videos by name (not its other files), a glob\'s matches, each file once', async () => {
    const media = ['blank.png', 'broken.jpg', 'coco_000000000785.jpg', 'sports2d_demo.mp4'].map((f) => path.join(clips, f));
    expect(await expandInputs([clips])).toEqual({ files: media, batch: `${clips} is a folder` });
    expect((await expandInputs([`${clips}/*.jpg`, media[2]!])).files).toEqual(media.slice(1, 3));
    expect(await expandInputs([media[3]!])).toEqual({ files: [media[3]] });
  });

  it('names folders by stem, keeping the extension or adding a number only where stems collide', () => {
    expect(planBatch(['a/run.mp4', 'a/run.jpg', 'b/run.mp4', 'a/walk.mov', 'summary.csv.mp4']).map((i) => i.name))
      .toEqual(['run_mp4', 'run_jpg', 'run_mp4-2', 'walk', 'summary.csv-2']);
  });

  it('defuses spreadsheet formulas in file names and messages, and leaves numbers as numbers', () => {
    const csv = summaryCsv('stance', [{ file: '=HYPERLINK("http://x")', status: '-error, "bad"' }, { file: '@run.mp4', status: 'ok' }]);
    const [, first, second] = csv.split('\r\n');
    expect(first).toBe(`"'=HYPERLINK(""http://x"")","'-error, ""bad"""${','.repeat(14)}`);
    expect(second).toBe(`'@run.mp4,ok${','.repeat(14)}`);
  });
});
