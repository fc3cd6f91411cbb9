import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError } from './image-decoder.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-image-decoder-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function refusal(input: string | Buffer, opts?: Parameters<typeof decodeImage>[1]): Promise<ImageDecodeError> {
  const error = await decodeImage(input, opts).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ImageDecodeError);
  return error as ImageDecodeError;
}

describe('decodeImage', () => {
  it('refuses an image over the pixel bound from its header, however it reached storage', async () => {
    const over = await sharp({ create: { width: 8000, height: 5001, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    expect((await refusal(over)).message).toMatch(/^Image is too large: at most 40 megapixels/);
    const under = await decodeImage(over, { maxSide: 64, maxPixels: 50_000_000 });
    expect([under.width, under.originalWidth]).toEqual([64, 8000]);
  }, 60_000);

  it('says what is wrong without the file\'s path, keeping the decoder\'s message as the cause', async () => {
    const file = path.join(dir, 'upload-3f2a9c.jpg');
    await writeFile(file, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4096, 1)]));
    const missing = path.join(dir, 'gone-77e1.jpg');
    for (const input of [file, missing]) {
      const error = await refusal(input);
      expect(error.message).toMatch(/^Image is corrupt or unreadable/);
      expect(error.message).not.toContain(dir);
      expect(error.message).not.toMatch(/0x[0-9a-f]{4,}/i);
      expect(error.cause).toBeInstanceOf(Error);
    }
  });
});
