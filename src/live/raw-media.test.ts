import { describe, expect, it } from 'vitest';
import { assertNoRawMedia, PAYLOAD_TOO_LARGE, RAW_MEDIA_REFUSED } from './raw-media.ts';
import { refusal } from './live.test-helper.ts';

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
