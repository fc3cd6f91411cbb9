// The person chosen at upload reaches every view's analysis: the upload's `person` field, stored with the
// analysis, is what the job hands to the view pipeline. A fake estimator with two people in every picture, whose
// pose follows the box it is asked about, makes the choice visible in the detailed results.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart, pathOf, type MultipartPart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';
import { FakePoseEstimator, fakeStandingPose, type EstimateOptions, type PeopleOptions } from '../pose/pose-estimator.ts';
import type { Box, PersonCandidate, PoseResult, RgbImage } from '../pose/pose-types.ts';

/** Each person's box as shares of the picture: 1 on the left (the larger, so the automatic rule's choice), 2 on the right. */
const SHARES: readonly Box[] = [
  { x: 0.05, y: 0.1, width: 0.3, height: 0.85 },
  { x: 0.6, y: 0.3, width: 0.2, height: 0.6 },
];
const boxIn = (image: RgbImage, s: Box): Box => ({
  x: s.x * image.width, y: s.y * image.height, width: s.width * image.width, height: s.height * image.height,
});

/** A standing figure fitted into `box`. */
function poseIn(image: RgbImage, box: Box, model: string): PoseResult {
  const figure = fakeStandingPose(image.width, image.height, model);
  const f = figure.box;
  const keypoints = figure.keypoints.map(([x, y, s]): [number, number, number] => [
    box.x + ((x - f.x) / f.width) * box.width, box.y + ((y - f.y) / f.height) * box.height, s,
  ]);
  return { keypoints, box, score: 0.9, model };
}

/** Two people in every picture; the pose answered is the one in the box asked about (a photo's person, a video's crop). */
class TwoPeopleEstimator extends FakePoseEstimator {
  constructor() {
    super(['cx'], (image: RgbImage, opts: EstimateOptions) => poseIn(image, opts.person?.box ?? opts.track ?? boxIn(image, SHARES[0]!), opts.model));
  }

  override async people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    return SHARES.map((s, i) => {
      const { keypoints, box } = poseIn(image, boxIn(image, s), opts.model);
      return { box, keypoints, score: 0.9 - i * 0.1 };
    });
  }
}

let t: TestApp;
let user: TestUser;
let jpg: Buffer;
let mp4: Buffer;

beforeAll(async () => {
  t = await createTestApp({ jobs: { frameStep: 15, concurrency: 1 } }, { estimator: new TwoPeopleEstimator() });
  user = await newUser(t.app);
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  mp4 = await readFile('test/fixtures/sports2d_demo.mp4');
}, 60_000);
afterAll(async () => {
  await t.close();
});

let sessions = 0;
async function analyse(person: string | null, views: MultipartPart[]): Promise<Record<string, unknown>> {
  const parts: MultipartPart[] = [{ name: 'session_id', value: `runner_${++sessions}` }];
  if (person !== null) parts.push({ name: 'person', value: person });
  const { payload, headers } = multipart([...parts, ...views]);
  const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
  expect(upload.statusCode).toBe(201);
  return waitForAnalysis(t.app, user.token, upload.json().analysis_id as string, ['completed', 'failed'], 120_000);
}

interface Detailed {
  width: number;
  subject: { id: number | null; rule: string };
  people: Array<{ id: number }>;
  frames_data: Array<{ keypoints: Array<[number, number, number]> | null }>;
}

async function detailed(done: Record<string, unknown>, view: string): Promise<Detailed> {
  const url = (done.analysis_json_urls as Record<string, string>)[view]!;
  return (await t.app.inject({ url: pathOf(url) })).json() as Detailed;
}

/** Every keypoint of every found frame lies within the person's horizontal stretch of the picture. */
function expectKeypointsOf(result: Detailed, person: 1 | 2): void {
  const { x, width } = SHARES[person - 1]!;
  const found = result.frames_data.filter((f) => f.keypoints);
  expect(found.length).toBeGreaterThan(0);
  for (const f of found) {
    for (const [kx] of f.keypoints!) {
      expect(kx / result.width).toBeGreaterThanOrEqual(x - 0.01);
      expect(kx / result.width).toBeLessThanOrEqual(x + width + 0.01);
    }
  }
}

const photo = (name: string): MultipartPart => ({ name, filename: `${name}.jpg`, content: jpg });

describe('the person chosen at upload', () => {
  it('is analysed in every view, photo and video alike; without a choice the automatic rule picks the other', async () => {
    const chosen = await analyse('2', [photo('front'), { name: 'left', filename: 'walk.mp4', content: mp4 }]);
    expect(chosen).toMatchObject({ status: 'completed', error: null });
    for (const view of ['front', 'left']) {
      const result = await detailed(chosen, view);
      expect(result.people.map((p) => p.id)).toEqual([1, 2]);
      expect(result.subject).toEqual({ id: 2, rule: 'person 2 chosen by the user' });
      expectKeypointsOf(result, 2);
    }
    const auto = await detailed(await analyse(null, [photo('front')]), 'front');
    expect(auto.subject.id).toBe(1);
    expectKeypointsOf(auto, 1);
  }, 150_000);

  it('can be a point on the person, in pixels of the original picture', async () => {
    const { width, height } = await detailed(await analyse(null, [photo('front')]), 'front') as Detailed & { height: number };
    const [x, y] = [Math.round(0.7 * width), Math.round(0.6 * height)];
    const result = await detailed(await analyse(`${x},${y}@0`, [photo('front')]), 'front');
    expect(result.subject).toEqual({ id: 2, rule: `the person at (${x}, ${y}) at 0 s, chosen by the user` });
    expectKeypointsOf(result, 2);
  }, 60_000);

  it('fails the analysis, naming who is there, when the chosen person is not found: never someone else', async () => {
    const done = await analyse('9', [photo('front')]);
    expect(done.status).toBe('failed');
    expect(done.error).toBe('front: person 9 chosen by the user, but nobody is there in front.jpg (people found: 1, 2)');
  }, 60_000);
});
