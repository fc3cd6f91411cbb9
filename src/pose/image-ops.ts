// Pixel work done in plain JS on typed arrays: rotated, padded square crops resampled to a model's input size.
// Bilinear sampling is taken from a 2x-decimated pyramid level so large crops do not alias.
import type { RgbImage } from './pose-types.ts';

/** A square region of the original image, possibly rotated (radians, clockwise in image coordinates). */
export interface Roi {
  cx: number;
  cy: number;
  size: number;
  angle: number;
}

// Pyramid levels and model inputs are scratch buffers reused from frame to frame: a thread works on one frame at a
// time, and allocating ~2 MB of short-lived typed arrays per frame left the freeing to the GC (measured: the RSS of a
// 60 s video grew by tens of MB of dead buffers between collections).
let pyramid: { img: RgbImage; levels: RgbImage[] } | undefined;
const levelBuffers: Uint8Array[] = [];

function halve(src: RgbImage, reuse: Uint8Array | undefined): RgbImage {
  const width = Math.max(1, src.width >> 1);
  const height = Math.max(1, src.height >> 1);
  const out = reuse && reuse.length === width * height * 3 ? reuse : new Uint8Array(width * height * 3);
  const sw = src.width;
  const s = src.data;
  for (let y = 0; y < height; y++) {
    const r0 = Math.min(2 * y, src.height - 1) * sw;
    const r1 = Math.min(2 * y + 1, src.height - 1) * sw;
    for (let x = 0; x < width; x++) {
      const c0 = Math.min(2 * x, sw - 1);
      const c1 = Math.min(2 * x + 1, sw - 1);
      const a = (r0 + c0) * 3;
      const b = (r0 + c1) * 3;
      const c = (r1 + c0) * 3;
      const d = (r1 + c1) * 3;
      const o = (y * width + x) * 3;
      out[o] = (s[a]! + s[b]! + s[c]! + s[d]! + 2) >> 2;
      out[o + 1] = (s[a + 1]! + s[b + 1]! + s[c + 1]! + s[d + 1]! + 2) >> 2;
      out[o + 2] = (s[a + 2]! + s[b + 2]! + s[c + 2]! + s[d + 2]! + 2) >> 2;
    }
  }
  return { data: out, width, height };
}

/**
 * Level `level` of `img`'s 2×-decimated pyramid. Only the latest image's pyramid is kept (in reused buffers); it is
 * read synchronously by sampleRoi, so interleaved calls on different images stay correct (they only recompute).
 */
function pyramidLevel(img: RgbImage, level: number): RgbImage {
  if (pyramid?.img !== img) pyramid = { img, levels: [img] };
  const levels = pyramid.levels;
  while (levels.length <= level) {
    const i = levels.length;
    const next = halve(levels[i - 1]!, levelBuffers[i]);
    levelBuffers[i] = next.data;
    levels.push(next);
  }
  return levels[level]!;
}

/** Forgets the cached pyramid (its source image may be handed on). */
export function releasePyramid(): void {
  pyramid = undefined;
}

const scratchInt = new Map<number, Int32Array>();
const scratchFloat = new Map<number, Float32Array>();

/**
 * Samples `roi` into an `outSize`×`outSize` RGB buffer (outside the image: black). With `flip`, the output is
 * mirrored horizontally. `scale` maps 0..255 to the model's range (e.g. 1/255 or 2/255 with offset -1).
 */
export function sampleRoi(
  img: RgbImage,
  roi: Roi,
  outSize: number,
  opts: {
    flip?: boolean;
    float?: { scale: number; offset: number };
    /** Write into a scratch buffer reused by the next call with the same size (copy it or use it at once). */
    reuse?: boolean;
  } = {},
): Int32Array | Float32Array {
  const step = roi.size / outSize;
  const level = Math.max(0, Math.min(6, Math.floor(Math.log2(Math.max(step, 1)))));
  const src = pyramidLevel(img, level);
  const f = 1 / 2 ** level;
  const sw = src.width;
  const sh = src.height;
  const s = src.data;
  const cos = Math.cos(roi.angle);
  const sin = Math.sin(roi.angle);
  const n = outSize * outSize * 3;
  let out: Int32Array | Float32Array;
  if (opts.float) {
    out = (opts.reuse && scratchFloat.get(n)) || new Float32Array(n);
    if (opts.reuse) scratchFloat.set(n, out);
  } else {
    out = (opts.reuse && scratchInt.get(n)) || new Int32Array(n);
    if (opts.reuse) scratchInt.set(n, out);
  }
  const scale = opts.float?.scale ?? 1;
  const offset = opts.float?.offset ?? 0;
  for (let v = 0; v < outSize; v++) {
    const dy = (v + 0.5) * step - roi.size / 2;
    for (let u = 0; u < outSize; u++) {
      const uu = opts.flip ? outSize - 1 - u : u;
      const dx = (uu + 0.5) * step - roi.size / 2;
      // Position in level pixels, pixel centres at +0.5.
      const x = (roi.cx + dx * cos - dy * sin) * f - 0.5;
      const y = (roi.cy + dx * sin + dy * cos) * f - 0.5;
      const o = (v * outSize + u) * 3;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) {
        out[o] = offset;
        out[o + 1] = offset;
        out[o + 2] = offset;
        continue;
      }
      const ax = x - x0;
      const ay = y - y0;
      const xa = Math.max(0, x0);
      const xb = Math.min(sw - 1, x0 + 1);
      const ya = Math.max(0, y0);
      const yb = Math.min(sh - 1, y0 + 1);
      // Beyond the border, weights of outside pixels are zeroed so the image fades into the black padding.
      const wxa = x0 < 0 ? 0 : 1 - ax;
      const wxb = x0 + 1 > sw - 1 ? 0 : ax;
      const wya = y0 < 0 ? 0 : 1 - ay;
      const wyb = y0 + 1 > sh - 1 ? 0 : ay;
      const i00 = (ya * sw + xa) * 3;
      const i01 = (ya * sw + xb) * 3;
      const i10 = (yb * sw + xa) * 3;
      const i11 = (yb * sw + xb) * 3;
      const w00 = wxa * wya;
      const w01 = wxb * wya;
      const w10 = wxa * wyb;
      const w11 = wxb * wyb;
      for (let c = 0; c < 3; c++) {
        const val = s[i00 + c]! * w00 + s[i01 + c]! * w01 + s[i10 + c]! * w10 + s[i11 + c]! * w11;
        out[o + c] = opts.float ? val * scale + offset : Math.round(val);
      }
    }
  }
  return out;
}

/** Maps a point given in normalised ROI coordinates (0..1, possibly mirrored) back to original-image pixels. */
export function roiToImage(roi: Roi, nx: number, ny: number, flipped = false): [number, number] {
  const dx = ((flipped ? 1 - nx : nx) - 0.5) * roi.size;
  const dy = (ny - 0.5) * roi.size;
  const cos = Math.cos(roi.angle);
  const sin = Math.sin(roi.angle);
  return [roi.cx + dx * cos - dy * sin, roi.cy + dx * sin + dy * cos];
}

/** The whole image letterboxed into a square (keeps aspect ratio). */
export function fullImageRoi(img: { width: number; height: number }): Roi {
  return { cx: img.width / 2, cy: img.height / 2, size: Math.max(img.width, img.height), angle: 0 };
}
