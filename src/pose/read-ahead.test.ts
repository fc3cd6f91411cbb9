import { describe, expect, it } from 'vitest';
import { readAhead } from './video-pose.ts';

describe('readAhead', () => {
  it('pulls up to n items ahead of the consumer, in order, and stops the source when the consumer stops', async () => {
    const pulled: number[] = [];
    let closed = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; i < 10; i++) {
          pulled.push(i);
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    for await (const v of readAhead(source(), 2)) {
      seen.push(v);
      // By the time the consumer holds item v, items up to v + 2 have been asked for.
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(pulled.length).toBeGreaterThanOrEqual(Math.min(10, v + 3));
      if (v === 5) break;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(closed).toBe(true);
  });

  it('passes a source error to the consumer when its turn comes', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      throw new Error('ffmpeg failed');
    }
    const seen: number[] = [];
    await expect((async () => {
      for await (const v of readAhead(failing(), 3)) seen.push(v);
    })()).rejects.toThrow('ffmpeg failed');
    expect(seen).toEqual([1]);
  });
});
