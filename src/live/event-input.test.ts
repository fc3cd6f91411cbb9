import { describe, expect, it } from 'vitest';
import { parseEventBatch } from './event-input.ts';
import { refusal, uprightKeypoints } from './live.test-helper.ts';

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

  it('treats every field as optional: label-only and empty events get a null angle; a sent angle is range-checked', () => {
    const nothing = { label: null, score: null, angle: null, neckTilt: null, timestamp: null, metadata: {}, keypoints: null };
    expect(parseEventBatch([{ label: 'Good' }, {}, { angle: null, score: 0.4, keypoints: null }])).toEqual([
      { ...nothing, label: 'Good' }, nothing, { ...nothing, score: 0.4 },
    ]);
    expect(refusal(() => parseEventBatch({ label: 'Good', angle: 91 }))).toBe('angle must be a number between 0 and 90');
    expect(refusal(() => parseEventBatch({ label: 'Good', angle: -0.5 }))).toBe('angle must be a number between 0 and 90');
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
