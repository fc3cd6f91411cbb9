import { describe, expect, it } from 'vitest';
import { releasePyramid, sampleRoi } from './image-ops.ts';
import type { RgbImage } from './pose-types.ts';

function image(seed: number, width = 64, height = 48): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97) & 255;
  return { data, width, height };
}

describe('sampleRoi scratch buffers', () => {
  it('gives the same pixels with reused buffers, also when calls on two images interleave', () => {
    const a = image(1);
    const b = image(2);
    // A large crop reads from pyramid level ≥ 1 (the reused level buffers).
    const roi = { cx: 30, cy: 20, size: 60, angle: 0.2 };
    const expectA = Array.from(sampleRoi(a, roi, 16));
    const expectB = Array.from(sampleRoi(b, roi, 16));
    releasePyramid();
    const first = sampleRoi(a, roi, 16, { reuse: true });
    expect(Array.from(first)).toEqual(expectA);
    expect(Array.from(sampleRoi(b, roi, 16, { reuse: true }))).toEqual(expectB);
    // Same buffer handed out again: callers copy it (tf.tensor does) before the next call.
    expect(sampleRoi(a, roi, 16, { reuse: true })).toBe(first);
    expect(Array.from(first)).toEqual(expectA);
    expect(sampleRoi(a, roi, 16)).not.toBe(first);
  });
});
