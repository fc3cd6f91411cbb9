import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateMediaAll } from './analyze-media.ts';
import { decodeImage } from './image-decoder.ts';
import { UnknownModelError } from './pose-estimator.ts';
import { createPoseWorkerPool, PoolClosedError, startWorker, type WorkerPoolPoseEstimator } from './worker-pool.ts';

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
    expect(info).toMatchObject({ fileType: 'video', fps: 30, totalFrames: 230, frameStep: 10 });
    expect(frames.map((f) => f.frame_index)).toEqual(Array.from({ length: 23 }, (_, i) => i * 10));
    // The walking woman (the subject) is in view from ~1.3 s to ~6.7 s of the 7.7 s.
    expect(frames.filter((f) => f.keypoints).length).toBeGreaterThan(14);
    // Keypoints are in original (1768×994) pixels, not the 720-wide decoded ones.
    expect(Math.max(...frames.flatMap((f) => (f.keypoints ?? []).map((k) => k[0])))).toBeGreaterThan(720);
  }, 60_000);

  it('lists everybody in a frame with the locator, in original order', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    const people = await pool.people({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' });
    expect(people.length).toBeGreaterThanOrEqual(1);
    const [first] = people;
    // The skier: a tall box around the nose found above.
    expect(first!.box.height).toBeGreaterThan(first!.box.width);
    expect(first!.keypoints).toHaveLength(17);
    const again = await pool.people({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' });
    expect(again).toEqual(people);
  });

  it('answers a tracked frame that loses the person with null when told not to search', async () => {
    const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
    // A crop on the empty top-left corner: nobody there, and no whole-image search may find the skier instead.
    const corner = { x: 0, y: 0, width: 40, height: 40 };
    const r = await pool.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning', track: corner, search: false, sequence: true });
    expect(r).toBeNull();
    const searched = await pool.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning', track: corner });
    expect(searched?.keypoints).toHaveLength(17);
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

describe('pose worker pool, started on demand', () => {
  it('holds no threads until the first request and after an idle period, and answers the same after a restart', async () => {
    const pool = createPoseWorkerPool({ models: ['movenet-lightning', 'blazepose-lite'], size: 1, idleMs: 20 });
    try {
      expect(pool.threads).toBe(0);
      const img = await decodeImage(path.join(fixtures, 'coco_000000000785.jpg'));
      const before = await pool.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' });
      expect(pool.threads).toBe(1);
      // Only what the request used is loaded: the other model waits for its first use.
      const [stats] = await pool.stats();
      expect(stats!.loaded).toContain('movenet-lightning');
      expect(stats!.loaded).not.toContain('blazepose-lite');
      await pool.stopped();
      expect(pool.threads).toBe(0);
      const after = await pool.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' });
      expect(before?.keypoints).toHaveLength(17);
      expect(after).toEqual(before);
      await pool.stopped();
      expect(pool.threads).toBe(0);
      // ready() (benchmarks) starts the threads with every model loaded.
      await pool.ready();
      expect(pool.threads).toBe(1);
      expect((await pool.stats())[0]!.loaded).toEqual(expect.arrayContaining(['movenet-lightning', 'blazepose-lite']));
    } finally {
      await pool.close();
    }
  }, 60_000);
});


describe('pose worker threads under a parent started with process-wide flags', () => {
  it('leave out the flags a worker may not take (node --v8-pool-size=1 ...) and keep the rest', async () => {
    // Node refuses V8 and per-process options in a worker's execArgv; before, any such flag on the server's command
    // line made every analysis fail with ERR_WORKER_INVALID_EXEC_ARGV.
    const echo = new URL(`data:text/javascript,${encodeURIComponent(
      "import { parentPort } from 'node:worker_threads'; parentPort.postMessage(process.execArgv);")}`);
    const worker = startWorker(echo, { execArgv: ['--v8-pool-size=1', '--no-warnings', '--max-old-space-size=900', '--title=postura'] });
    const [argv] = await once(worker, 'message') as [string[]];
    await worker.terminate();
    expect(argv).toEqual(['--no-warnings']);
  });
});
