import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateMediaAll } from './analyze-media.ts';
import { decodeImage } from './image-decoder.ts';
import { UnknownModelError } from './pose-estimator.ts';
import { createPoseWorkerPool, PoolClosedError, type WorkerPoolPoseEstimator } from './worker-pool.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');

describe('pose worker pool', () => {
  let pool: WorkerPoolPoseEstimator;
  beforeAll(async () => {
    pool = createPoseWorkerPool({ models: ['movenet-lightning'], size: 2 });
    await pool.ready();
  }, 60_000);
  afterAll(() => pool.close());

  it('runs inference in worker threads and transfers the pixels', async () => {
    const decoded = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const img = { ...decoded, data: new Uint8Array(decoded.data) };
    const r = await pool.estimate(img, { model: 'movenet-lightning' });
    expect(r?.keypoints).toHaveLength(17);
    // Transferred, so the caller's buffer is detached (no copy was made).
    expect(img.data.byteLength).toBe(0);
    const nose = r!.keypoints[0]!;
    expect(Math.hypot(nose[0] - 367, nose[1] - 81)).toBeLessThan(25);
  });

  it('spreads concurrent requests over both workers and keeps the event loop free', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => pool.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' })),
    );
    clearInterval(timer);
    expect(results.every((r) => r && r.keypoints.length === 17)).toBe(true);
    expect(ticks).toBeGreaterThan(3);
    expect(pool.pending).toBe(0);
  });

  it('streams a video through the pool in frame order', async () => {
    const { info, frames } = await estimateMediaAll(path.join(fixtures, 'sports2d_demo.mp4'), {
      estimator: pool,
      model: 'movenet-lightning',
      frameStep: 10,
    });
    expect(info).toMatchObject({ file_type: 'video', fps: 30, total_frames: 230, frame_step: 10 });
    expect(frames.map((f) => f.frame_index)).toEqual(Array.from({ length: 23 }, (_, i) => i * 10));
    expect(frames.filter((f) => f.keypoints).length).toBeGreaterThan(20);
    // Keypoints are in original (1768×994) pixels, not the 720-wide decoded ones.
    expect(Math.max(...frames.flatMap((f) => (f.keypoints ?? []).map((k) => k[0])))).toBeGreaterThan(720);
  }, 60_000);

  it('gives a video frame that waits for a worker the newest box when it is sent, not when it was queued', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const first = await pool.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' });
    const asked = [0, 0, 0];
    const frame = (i: number) => pool.estimate({ ...img, data: img.data.slice() }, {
      model: 'movenet-lightning', sequence: true, track: first!.box,
      latestTrack: () => ((asked[i] = asked[i]! + 1), first!.box),
    });
    const running = [frame(0), frame(1), frame(2)];
    // One video frame per worker: the third waits in the pool, its box not yet chosen.
    expect(asked).toEqual([1, 1, 0]);
    const results = await Promise.all(running);
    expect(asked).toEqual([1, 1, 1]);
    expect(results.every((r) => r?.keypoints.length === 17)).toBe(true);
  });

  it('refuses unknown models and aborted requests', async () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2 };
    expect(() => pool.estimate(img, { model: 'nope' })).toThrow(UnknownModelError);
    await expect(pool.estimate(img, { model: 'movenet-lightning', signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('rejects work after close', async () => {
    const p = createPoseWorkerPool({ models: ['movenet-lightning'], size: 1 });
    await p.close();
    await expect(p.estimate({ data: new Uint8Array(12), width: 2, height: 2 }, { model: 'movenet-lightning' })).rejects.toThrow(PoolClosedError);
  });
});
