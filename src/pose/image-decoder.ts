// Still images → packed RGB via sharp, EXIF orientation applied, optionally downscaled (keeping the factor so
// keypoints can be mapped back to original pixels).
import type SharpType from 'sharp';
import type { RgbImage } from './pose-types.ts';

export interface DecodedImage extends RgbImage {
  /** Size of the image as displayed (after EXIF rotation), before any downscale. */
  originalWidth: number;
  originalHeight: number;
  /** Multiply decoded coordinates by this to get original pixels (1 when not downscaled). */
  scale: number;
}

// sharp (libvips) is imported on first use: it costs ~23 MB of RSS, and a process that only analyses videos
// (ffmpeg decodes them) never needs it.
let sharpModule: Promise<typeof SharpType> | undefined;
const loadSharp = (): Promise<typeof SharpType> => (sharpModule ??= import('sharp').then((m) => m.default));

export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

/** Decodes a JPEG/PNG/WebP/TIFF/BMP-in-sharp file or buffer. `maxSide` bounds the longest decoded edge. */
export async function decodeImage(input: Buffer | Uint8Array | string, opts: { maxSide?: number } = {}): Promise<DecodedImage> {
  const sharp = await loadSharp();
  try {
    let pipeline = sharp(input, { failOn: 'error', limitInputPixels: 12_000 * 12_000 }).rotate();
    const meta = await sharp(input).metadata();
    const swap = (meta.orientation ?? 1) >= 5;
    const originalWidth = (swap ? meta.height : meta.width) ?? 0;
    const originalHeight = (swap ? meta.width : meta.height) ?? 0;
    const maxSide = opts.maxSide ?? 0;
    if (maxSide > 0 && Math.max(originalWidth, originalHeight) > maxSide) {
      pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside' });
    }
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError(`unexpected channel count ${info.channels}`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      originalWidth: originalWidth || info.width,
      originalHeight: originalHeight || info.height,
      scale: (originalWidth || info.width) / info.width,
    };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`cannot decode image: ${(err as Error).message}`);
  }
}
