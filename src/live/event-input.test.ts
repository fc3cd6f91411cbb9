import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import { assertNoRawMedia, parseEventBatch, PAYLOAD_TOO_LARGE, RAW_MEDIA_REFUSED } from './event-input.ts';
import { uprightKeypoints } from './live.test-helper.ts';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('assertNoRawMedia', () => {
  it('refuses image/frame keys at any depth and in any case', () => {
    for (const body of [{ image: 1 }, { FRAME: null }, [{ a: [{ b: { Image: 'x' } }] }], { metadata: { frame: {} } }]) {
      expect(refusal(() => assertNoRawMedia(body))).toBe(RAW_MEDIA_REFUSED);
    }
  });

  it('refuses strings over 5000 characters anywhere, keys included; the key rule wins when both apply', () => {
    expect(refusal(() => assertNoRawMedia({ a: ['x'.repeat(5001)] }))).toBe(PAYLOAD_TOO_LARGE);
    expect(refusal(() => assertNoRawMedia({ ['k'.repeat(5001)]: 1 }))).toBe(PAYLOAD_TOO_LARGE);
    expect(refusal(() => assertNoRawMedia({ a: 'x'.repeat(6000), frame: 'y' }))).toBe(RAW_MEDIA_REFUSED);
    expect(() => assertNoRawMedia({ images: 1, frames: 'x'.repeat(5000) })).not.toThrow();
  });

  it('survives deeply nested bodies without overflowing the stack', () => {
    let deep: unknown = { frame: 1 };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(refusal(() => assertNoRawMedia(deep))).toBe(RAW_MEDIA_REFUSED);
  });
});

describe('parseEventBatch', () => {
  it('reads keypoints into server-computed angles and a normalised keypoint map', () => {
    const [event] = parseEventBatch({ keypoints: { ...uprightKeypoints(), left_big_toe: [1, 2, 0.5] }, angle: 80, score: 0.1 });
    expect(event).toMatchObject({ angle: 0, neckTilt: 0, score: 0.9, label: null, timestamp: null, metadata: {} });
    expect(Object.keys(event!.keypoints!).sort()).toEqual(['left_hip', 'left_shoulder', 'nose', 'right_hip', 'right_shoulder']);
  });

  it('keeps a client angle, score and label without keypoints', () => {
    expect(parseEventBatch([{ angle: 0, score: 0.5, label: ' Good ' }, { angle: 90 }])).toMatchObject([
      { angle: 0, score: 0.5, label: 'Good', neckTilt: null, keypoints: null },
      { angle: 90, score: null, label: null },
    ]);
  });

  it('reads timestamps as Unix seconds, milliseconds or ISO strings', () => {
    const iso = '2024-05-01T10:00:00.000Z';
    const seconds = Date.parse(iso) / 1000;
    const parsed = parseEventBatch([
      { angle: 1, timestamp: seconds }, { angle: 1, timestamp: seconds * 1000 }, { angle: 1, timestamp: iso }, { angle: 1, timestamp: String(seconds) },
    ]);
    expect(parsed.map((e) => e.timestamp?.toISOString())).toEqual([iso, iso, iso, iso]);
    expect(refusal(() => parseEventBatch({ angle: 1, timestamp: -5 }))).toMatch(/timestamp/);
  });

  it('names the bad event of a batch', () => {
    expect(refusal(() => parseEventBatch([{ angle: 1 }, { angle: 1, metadata: [] }]))).toBe('Invalid events[1].metadata: must be object');
    expect(refusal(() => parseEventBatch([{ angle: 1 }, { angle: 1, label: 5 }]))).toBe('Invalid events[1].label: must be string');
  });

  it('an empty list is an empty batch', () => {
    expect(parseEventBatch([])).toEqual([]);
  });
});
