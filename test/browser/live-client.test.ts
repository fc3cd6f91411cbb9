// The live page's pure parts, in Node: the event throttle against the server's 10-per-second rule, the calibration
// baseline, the tracking crop and the event body. The browser test covers them running together.
import { describe, expect, it } from 'vitest';
import { Calibration, CALIBRATION_MS } from '../../web/src/live/calibration.ts';
import { EventSender, SEND_INTERVAL_MS } from '../../web/src/live/event-sender.ts';
import { toPostureEvent } from '../../web/src/live/live-api.ts';
import { searchRois, trackingRoi } from '../../web/src/live/pose-crop.ts';
import type { Keypoint } from '../../src/posture/keypoints.ts';

/** A post whose answer the test gives: resolve() or reject(error) the oldest request still open. */
function manualPost() {
  const open: { resolve(): void; reject(error: unknown): void }[] = [];
  return {
    open,
    post: () => new Promise<void>((resolve, reject) => open.push({ resolve, reject })),
    async answer(error?: unknown) {
      const request = open.shift()!;
      if (error) request.reject(error);
      else request.resolve();
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** An upright person facing the camera, in pixels: shoulders at y 100, hips at y 300, the hips shifted by `lean`. */
function person(lean = 0, score = 0.9): Keypoint[] {
  const points: Keypoint[] = Array.from({ length: 17 }, () => [200, 50, score] as Keypoint);
  points[5] = [170, 100, score];
  points[6] = [230, 100, score];
  points[11] = [175 + lean, 300, score];
  points[12] = [225 + lean, 300, score];
  return points;
}

describe('EventSender', () => {
  it('drops poses while a request is in flight instead of queueing them', async () => {
    let now = 0;
    const server = manualPost();
    const sender = new EventSender<number>({ post: server.post, now: () => now });
    expect(sender.offer(1)).toBe(true);
    for (now = 10; now < 1000; now += 40) expect(sender.offer(2)).toBe(false);
    expect(server.open).toHaveLength(1);
    await server.answer();
    expect(sender.offer(3)).toBe(true);
    expect(sender.sent).toBe(1);
  });

  it('never lets eleven requests fall within one second of each other, whatever the pose rate', async () => {
    for (const poseEveryMs of [16, 33, 50, 67, 78, 100]) {
      let now = 0;
      const server = manualPost();
      const sender = new EventSender<number>({ post: server.post, now: () => now });
      const sends: number[] = [];
      for (; now < 10_000; now += poseEveryMs) {
        if (sender.offer(now)) sends.push(now);
        // The server answers at once: the throttle alone must keep the rate.
        if (server.open.length > 0) await server.answer();
      }
      for (let k = 0; k + 9 < sends.length; k++) expect(sends[k + 9]! - sends[k]!).toBeGreaterThan(1000);
      const perSecond = sends.length / 10;
      // Poses faster than the send interval are not lost to rounding: the average stays near 1000 / 120.
      if (poseEveryMs <= SEND_INTERVAL_MS / 1.5) expect(perSecond).toBeGreaterThan(7.5);
    }
  });

  it('waits out a 429 (doubling without a Retry-After) and stops on an expired sign-in', async () => {
    let now = 0;
    const server = manualPost();
    const failures: (number | null)[] = [];
    const sender = new EventSender<number>({ post: server.post, now: () => now, onFailure: (f) => failures.push(f.status) });
    sender.offer(1);
    await server.answer({ status: 429, message: 'Too many events per second.' });
    now = 900;
    expect(sender.offer(2)).toBe(false);
    now = 1001;
    expect(sender.offer(3)).toBe(true);
    await server.answer({ status: 429, message: 'Too many events today.' });
    now = 2900;
    expect(sender.offer(4)).toBe(false);
    now = 3002;
    expect(sender.offer(5)).toBe(true);
    await server.answer({ status: 401, message: 'Your session has expired.' });
    now = 60_000;
    expect(sender.offer(6)).toBe(false);
    expect(failures).toEqual([429, 429, 401]);
  });
});

describe('Calibration', () => {
  const bodyOf = (keypoints: Keypoint[]) => toPostureEvent(keypoints, 640, 480, 0).keypoints;

  it('takes the median spine angle of the poses it saw, in the server\'s units', () => {
    const calibration = new Calibration(0);
    // atan(10 / 200) = 2.86°; one stray lean of 40 px (11.3°) does not move the median.
    for (let i = 0; i < 6; i++) calibration.add(bodyOf(person(10)));
    calibration.add(bodyOf(person(40)));
    expect(calibration.isDone(CALIBRATION_MS - 1)).toBe(false);
    expect(calibration.isDone(CALIBRATION_MS)).toBe(true);
    expect(calibration.result()).toEqual({ baseline: 2.9, poses: 7 });
  });

  it('refuses to guess from uncertain poses', () => {
    const calibration = new Calibration(0);
    for (let i = 0; i < 20; i++) calibration.add(bodyOf(person(0, 0.1)));
    expect(calibration.result()).toHaveProperty('problem');
  });
});

describe('pose crops', () => {
  it('crops around the person found, with a margin, and searches again when the pose is weak or fills the frame', () => {
    const roi = trackingRoi(person(), 640, 480);
    // The points span x 170..230 and y 50..300: a 250-pixel box, cropped 1.6 times as large around its centre.
    expect(roi).toEqual({ cx: 200, cy: 175, size: 400, angle: 0 });
    expect(trackingRoi(person(0, 0.35), 640, 480)).toBeNull();
    const tall = person().map(([x, y, s]): Keypoint => [x, y * 3, s]);
    expect(trackingRoi(tall, 640, 480)).toBeNull();
  });

  it('searches a wide frame as a whole and as squares at either end', () => {
    expect(searchRois(640, 360)).toEqual([
      { cx: 320, cy: 180, size: 640, angle: 0 },
      { cx: 180, cy: 180, size: 360, angle: 0 },
      { cx: 460, cy: 180, size: 360, angle: 0 },
    ]);
    expect(searchRois(576, 480)).toEqual([{ cx: 288, cy: 240, size: 576, angle: 0 }]);
  });
});

describe('toPostureEvent', () => {
  it('sends the 17 COCO points in pixels, rounded, and nothing that could hold a picture', () => {
    const event = toPostureEvent(person(), 640, 480, 1_700_000_000_123.4);
    expect(Object.keys(event.keypoints)).toHaveLength(17);
    expect(event.keypoints.left_hip).toEqual({ x: 175, y: 300, confidence: 0.9 });
    expect(event.timestamp).toBe(1_700_000_000_123);
    expect(JSON.stringify(event)).not.toMatch(/image|frame/i);
    expect(JSON.stringify(event).length).toBeLessThan(1500);
  });
});
