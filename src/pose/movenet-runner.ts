// MoveNet (single-pose Thunder/Lightning and MultiPose) on the WASM backend: one crop in, keypoints out in
// original-image pixels.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { fullImageRoi, roiToImage, sampleRoi, type Roi } from './image-ops.ts';
import { COCO_FLIP_INDEX, type Keypoint, type PersonCandidate, type RgbImage } from './pose-types.ts';
import { mergeFlipped } from './person-geometry.ts';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadGraphModelFromFiles, tf } from './tf-runtime.ts';

/** Flip passes further apart than this share of the crop are not averaged. */
const FLIP_AGREE_RATIO = 0.05;

export class MoveNetRunner {
  private constructor(
    private readonly model: GraphModel,
    readonly inputSize: number,
  ) {}

  static async load(file: string): Promise<MoveNetRunner> {
    const model = await loadGraphModelFromFiles(file);
    const size = model.inputs[0]?.shape?.[1] ?? 256;
    return new MoveNetRunner(model, size);
  }

  /** One pass on `roi` (mirrored when `flip`), mapped back to the image. */
  async run(img: RgbImage, roi: Roi, flip = false): Promise<Keypoint[]> {
    const s = this.inputSize;
    const input = tf.tensor4d(sampleRoi(img, roi, s, { flip, reuse: true }) as Int32Array, [1, s, s, 3], 'int32');
    const output = this.model.execute(input) as Tensor;
    const raw = (await output.data()) as Float32Array;
    tf.dispose([input, output]);
    const kps: Keypoint[] = [];
    for (let i = 0; i < 17; i++) {
      const [x, y] = roiToImage(roi, raw[i * 3 + 1]!, raw[i * 3]!, flip);
      kps.push([x, y, raw[i * 3 + 2]!]);
    }
    if (!flip) return kps;
    // A mirrored crop has left and right exchanged; put each point back under its own name.
    return COCO_FLIP_INDEX.map((j) => kps[j]!);
  }

  /** Plain pass, or the average of the plain and the mirrored pass (flip averaging). */
  async runAveraged(img: RgbImage, roi: Roi, flip: boolean): Promise<Keypoint[]> {
    const a = await this.run(img, roi, false);
    if (!flip) return a;
    const b = await this.run(img, roi, true);
    return mergeFlipped(a, b, COCO_FLIP_INDEX.map((_, i) => i), roi.size * FLIP_AGREE_RATIO);
  }

  dispose(): void {
    this.model.dispose();
  }
}

export type { PersonCandidate };

/** MoveNet MultiPose used as a person locator: up to 6 people with boxes and rough keypoints. */
export class MultiPoseRunner {
  private constructor(private readonly model: GraphModel) {}

  static async load(): Promise<MultiPoseRunner> {
    return new MultiPoseRunner(await loadGraphModelFromFiles('movenet-multipose'));
  }

  async detect(img: RgbImage, minScore = 0.2, size = 256): Promise<PersonCandidate[]> {
    const roi = fullImageRoi(img);
    const input = tf.tensor4d(sampleRoi(img, roi, size, { reuse: true }) as Int32Array, [1, size, size, 3], 'int32');
    const output = this.model.execute(input) as Tensor;
    const raw = (await output.data()) as Float32Array;
    tf.dispose([input, output]);
    const people: PersonCandidate[] = [];
    for (let p = 0; p < 6; p++) {
      const o = p * 56;
      const score = raw[o + 55]!;
      if (score < minScore) continue;
      const keypoints: Keypoint[] = [];
      for (let i = 0; i < 17; i++) {
        const [x, y] = roiToImage(roi, raw[o + i * 3 + 1]!, raw[o + i * 3]!);
        keypoints.push([x, y, raw[o + i * 3 + 2]!]);
      }
      const [x0, y0] = roiToImage(roi, raw[o + 52]!, raw[o + 51]!);
      const [x1, y1] = roiToImage(roi, raw[o + 54]!, raw[o + 53]!);
      people.push({ box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, score, keypoints });
    }
    return people;
  }

  dispose(): void {
    this.model.dispose();
  }
}
