// Same input, same answer; one person, the right one. Real models on the two-person demo video (the man on the
// roof, the woman walking past below him) and a photo, through 1 and 2 workers, a randomly delayed worker, and the
// model server.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../model-server/model-server.ts';
import { estimateMediaAll, type EstimateMediaOptions, type MediaPeople, type PoseFrame } from './analyze-media.ts';
import type { EstimateOptions, PeopleOptions, PoseEstimator } from './pose-estimator.ts';
import type { RgbImage } from './pose-types.ts';
import { RemotePoseEstimator } from './remote-pose-estimator.ts';
import { createPoseWorkerPool, type WorkerPoolPoseEstimator } from './worker-pool.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
const video = path.join(fixtures, 'sports2d_demo.mp4');
const photo = path.join(fixtures, 'coco_000000000785.jpg');
const MODEL = 'cx';
const FRAME_STEP = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Forwards to a pool after a random delay, and answers after another: frames finish in any order. */
class DelayedEstimator implements PoseEstimator {
  constructor(private readonly inner: WorkerPoolPoseEstimator) {}
  async estimate(image: RgbImage, opts: EstimateOptions) {
    await sleep(Math.random() * 40);
    const r = await this.inner.estimate(image, opts);
    await sleep(Math.random() * 40);
    return r;
  }
  async people(image: RgbImage, opts: PeopleOptions) {
    await sleep(Math.random() * 40);
    return this.inner.people(image, opts);
  }
  pixelBuffer = (n: number) => this.inner.pixelBuffer(n);
  models = () => this.inner.models();
  close = async () => undefined;
}

async function run(estimator: PoseEstimator, file: string, extra: Partial<EstimateMediaOptions> = {}): Promise<{ frames: PoseFrame[]; people: MediaPeople }> {
  let people: MediaPeople | undefined;
  const { frames } = await estimateMediaAll(file, { estimator, model: MODEL, frameStep: FRAME_STEP, onPeople: (p) => (people = p), ...extra });
  return { frames, people: people! };
}

const hipCentre = (f: PoseFrame): [number, number] => {
  const [l, r] = [f.keypoints![11]!, f.keypoints![12]!];
  return [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2];
};

describe('video: determinism and the subject', () => {
  let one: WorkerPoolPoseEstimator;
  let two: WorkerPoolPoseEstimator;
  let reference: { frames: PoseFrame[]; people: MediaPeople };
  beforeAll(async () => {
    one = createPoseWorkerPool({ models: [MODEL], size: 1 });
    two = createPoseWorkerPool({ models: [MODEL], size: 2 });
    reference = await run(one, video);
  }, 120_000);
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  it('gives byte-identical frames with 1 worker, 2 workers and a randomly delayed worker', async () => {
    const expected = JSON.stringify(reference);
    expect(JSON.stringify(await run(two, video))).toBe(expected);
    expect(JSON.stringify(await run(new DelayedEstimator(two), video))).toBe(expected);
    // Keyframes in flight change speed only.
    expect(JSON.stringify(await run(two, video, { inFlight: 1 }))).toBe(expected);
    // So do the frames kept between the passes: none (the file decoded twice), or a spool given up after 5 frames.
    expect(JSON.stringify(await run(two, video, { spoolBytes: 0 }))).toBe(expected);
    expect(JSON.stringify(await run(two, video, { spoolBytes: 5 * 720 * 404 * 3 }))).toBe(expected);
  }, 240_000);

  it('keeps the walking woman (visible longest) and never jumps to the man on the roof', () => {
    const { frames, people } = reference;
    expect(people.people.length).toBeGreaterThanOrEqual(2);
    const subject = people.people.find((p) => p.id === people.subject.id)!;
    // The woman walks along the bottom half of the 994-px-high picture; the man stands on the roof above.
    expect(subject.mean_box.y).toBeGreaterThan(400);
    const found = frames.filter((f) => f.keypoints);
    expect(found.length).toBeGreaterThan(frames.length / 2);
    for (const f of found) expect(hipCentre(f)[1]).toBeGreaterThan(600);
    // Walking right to left: between consecutive found frames the hips move by less than a body height.
    for (let i = 1; i < found.length; i++) {
      const [a, b] = [hipCentre(found[i - 1]!), hipCentre(found[i]!)];
      expect(Math.hypot(a[0] - b[0], a[1] - b[1])).toBeLessThan(400);
    }
  });

  it('frames without the subject are gaps: null keypoints, never zeros', () => {
    const { frames } = reference;
    // She enters from the right after ~1.5 s.
    expect(frames[0]).toMatchObject({ frame_index: 0, keypoints: null, box: null });
    expect(frames.flatMap((f) => f.keypoints ?? []).some(([x, y]) => x === 0 && y === 0)).toBe(false);
  });

  it('the man on the roof, chosen by a point on him, gives his own track', async () => {
    const man = reference.people.people.find((p) => p.mean_box.y < 300)!;
    const at = { x: man.mean_box.x + man.mean_box.width / 2, y: man.mean_box.y + man.mean_box.height / 2 };
    const chosen = await run(two, video, { subject: { kind: 'point', ...at, t: 0 } });
    expect(chosen.people.subject.id).toBe(man.id);
    const found = chosen.frames.filter((f) => f.keypoints);
    expect(found.length).toBeGreaterThan(3);
    for (const f of found) expect(hipCentre(f)[1]).toBeLessThan(550);
    const byId = await run(two, video, { subject: { kind: 'id', id: man.id } });
    expect(JSON.stringify(byId.frames)).toBe(JSON.stringify(chosen.frames));
  }, 120_000);
});

describe('through the model server', () => {
  let pool: WorkerPoolPoseEstimator;
  let server: ModelServer;
  let remote: RemotePoseEstimator;
  beforeAll(async () => {
    pool = createPoseWorkerPool({ models: [MODEL], size: 2 });
    server = await startModelServer({ estimator: pool, models: [MODEL], host: '127.0.0.1', port: 0, verifyWsToken: async () => ({ userId: 'service' }) });
    remote = new RemotePoseEstimator({ url: server.url, getToken: async () => 'token', models: [MODEL] });
  }, 60_000);
  afterAll(async () => {
    await remote.close();
    await server.close();
    await pool.close();
  });

  it('gives the same photo and video results as the in-process pool', async () => {
    expect(JSON.stringify(await run(remote, photo))).toBe(JSON.stringify(await run(pool, photo)));
    const step = { frameStep: 15 };
    expect(JSON.stringify(await run(remote, video, step))).toBe(JSON.stringify(await run(pool, video, step)));
  }, 180_000);
});
