import { describe, expect, it } from 'vitest';
import { limitedChunks, ObjectTooLargeError } from './object-store.ts';

async function* generate(totalBytes: number, chunkBytes = 1024 * 1024): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < totalBytes; sent += chunkBytes) yield Buffer.alloc(Math.min(chunkBytes, totalBytes - sent), 1);
}

describe('limitedChunks', () => {
  it('keeps no chunk alive once it is passed on, even with an abort signal watching', async () => {
    // A regression guard: racing every chunk against one long-lived abort promise kept all of them reachable,
    // so a 1 GiB upload held 1 GiB. 256 MiB pass through here; far less than that may stay allocated.
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let size = 0;
    for await (const chunk of limitedChunks(generate(256 * 1024 * 1024), { signal: new AbortController().signal })) {
      size += chunk.length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    expect(size).toBe(256 * 1024 * 1024);
    expect(peak).toBeLessThan(96 * 1024 * 1024);
  });

  it('stops at the size limit and when the signal aborts', async () => {
    const tooBig = async () => {
      for await (const _chunk of limitedChunks(generate(3 * 1024 * 1024), { maxBytes: 2 * 1024 * 1024 })) { /* drain */ }
    };
    await expect(tooBig()).rejects.toBeInstanceOf(ObjectTooLargeError);
    const controller = new AbortController();
    const aborted = async () => {
      for await (const _chunk of limitedChunks(generate(64 * 1024 * 1024), { signal: controller.signal })) controller.abort();
    };
    await expect(aborted()).rejects.toThrow();
  });
});
