// Still images → packed RGB via sharp, EXIF orientation applied, optionally downscaled (keeping the factor so
// keypoints can be mapped back to original pixels).
import type SharpType from 'sharp';
import { MAX_IMAGE_PIXELS } from './media-limits.ts';
import { imageProblem, imageTooLarge } from './media-problems.ts';
import type { RgbImage } from './pose-types.ts';

export interface DecodedImage extends RgbImage {
  /** Size of the image as displayed (after EXIF rotation), before any downscale. */
  originalWidth: number;
  originalHeight: number;
  /** Multiply decoded coordinates by this to get original pixels (1 when not downscaled). */
  scale: number;
}

// sharp (libvips) is imported on first use: it costs ~23 MB of RSS, and a process that only analyses videos
// (ffmpeg decodes them), or a server nobody has sent a photo yet, never needs it.
let sharpModule: Promise<typeof SharpType> | undefined;
export const loadSharp = (): Promise<typeof SharpType> => (sharpModule ??= import('sharp').then((m) => m.default));

/** Its message is fit for a user (media-problems.ts); the decoder's own message is `cause`, for the log. */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
}

/**
 * Decodes a JPEG/PNG/WebP/TIFF/BMP-in-sharp file or buffer. `maxSide` bounds the longest decoded edge; an image
 * declaring more than `maxPixels` (default `MAX_IMAGE_PIXELS`) is refused from its header, before it is decoded.
 */
export async function decodeImage(
  input: Buffer | Uint8Array | string,
  opts: { maxSide?: number; maxPixels?: number } = {},
): Promise<DecodedImage> {
  const sharp = await loadSharp();
  const maxPixels = opts.maxPixels ?? MAX_IMAGE_PIXELS;
  try {
    let pipeline = sharp(input, { failOn: 'error', limitInputPixels: maxPixels }).rotate();
    const meta = await sharp(input, { limitInputPixels: maxPixels }).metadata();
    const swap = (meta.orientation ?? 1) >= 5;
    const originalWidth = (swap ? meta.height : meta.width) ?? 0;
    const originalHeight = (swap ? meta.width : meta.height) ?? 0;
    if (originalWidth * originalHeight > maxPixels) throw new ImageDecodeError(imageTooLarge(maxPixels));
    const maxSide = opts.maxSide ?? 0;
    if (maxSide > 0 && Math.max(originalWidth, originalHeight) > maxSide) {
      pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside' });
    }
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError('Image is corrupt or unreadable', { cause: new Error(`${info.channels} channels`) });
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
    const detail = (err as Error).message;
    throw new ImageDecodeError(imageProblem(detail, maxPixels), { cause: err });
  }
}
