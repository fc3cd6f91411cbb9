// BlazePose (MediaPipe) on the WASM backend: the pose detector finds people and their alignment (hip centre and a
// point giving body scale and rotation), the landmark model runs on the rotated, upright crop.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { fullImageRoi, roiToImage, sampleRoi, type Roi } from './image-ops.ts';
import type { Box, Keypoint, RgbImage } from './pose-types.ts';
import { mergeFlipped } from './person-geometry.ts';
import type { Tensor } from '@tensorflow/tfjs-core';
import { loadGraphModelFromFiles, tf } from './tf-runtime.ts';

export const BLAZEPOSE_NAMES = [
  'nose', 'left_eye_inner', 'left_eye', 'left_eye_outer', 'right_eye_inner', 'right_eye', 'right_eye_outer',
  'left_ear', 'right_ear', 'mouth_left', 'mouth_right', 'left_shoulder', 'right_shoulder', 'left_elbow',
  'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky', 'right_pinky', 'left_index', 'right_index',
  'left_thumb', 'right_thumb', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
  'left_heel', 'right_heel', 'left_foot_index', 'right_foot_index',
] as const;

/** BlazePose index of each COCO-17 point. */
export const BLAZEPOSE_TO_COCO = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28];

const FLIP_33 = [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23, 26, 25, 28, 27, 30, 29, 32, 31];
// The landmark model's 34th/35th outputs are the alignment points used to build the next crop.
const FLIP_39 = [...FLIP_33, 33, 34, 35, 36, 37, 38];

const DETECTOR_SIZE = 224;
const LANDMARK_SIZE = 256;
const ROI_SCALE = 1.25;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface BlazePoseDetection {
  /** Upright square crop around the person. */
  roi: Roi;
  score: number;
  box: Box;
}

export interface BlazePoseLandmarks {
  /** 39 points (33 landmarks + alignment points) in image pixels; score = visibility × presence. */
  points: Keypoint[];
  /** Probability that a person is in the crop at all. */
  poseScore: number;
}

/** Crop from two alignment points: `centre` (hip centre) and `scalePoint` (beyond the head). */
export function alignedRoi(centre: [number, number], scalePoint: [number, number], scale = ROI_SCALE): Roi {
  const vx = scalePoint[0] - centre[0];
  const vy = scalePoint[1] - centre[1];
  const radius = Math.hypot(vx, vy);
  return { cx: centre[0], cy: centre[1], size: 2 * radius * scale, angle: Math.atan2(vx, -vy) };
}

function buildAnchors(): Float32Array {
  // MediaPipe SSD anchors for the 224×224 pose detector: strides 8, 16, 32, 32, 32; 2 anchors per layer per cell.
  const strides = [8, 16, 32, 32, 32];
  const out: number[] = [];
  let layer = 0;
  while (layer < strides.length) {
    let count = 0;
    let last = layer;
    while (last < strides.length && strides[last] === strides[layer]) {
      count += 2;
      last++;
    }
    const fm = Math.ceil(DETECTOR_SIZE / strides[layer]!);
    for (let y = 0; y < fm; y++) for (let x = 0; x < fm; x++) for (let a = 0; a < count; a++) out.push((x + 0.5) / fm, (y + 0.5) / fm);
    layer = last;
  }
  return Float32Array.from(out);
}

export class BlazePoseRunner {
  private readonly anchors = buildAnchors();

  private constructor(
    private readonly detector: GraphModel,
    private readonly landmarks: GraphModel,
  ) {}

  static async load(landmarkFile: string): Promise<BlazePoseRunner> {
    const [detector, landmarks] = await Promise.all([
      loadGraphModelFromFiles('blazepose-detector'),
      loadGraphModelFromFiles(landmarkFile),
    ]);
    return new BlazePoseRunner(detector, landmarks);
  }

  /** All people found by the detector (after non-maximum suppression), as aligned crops. */
  async detect(img: RgbImage, minScore = 0.5): Promise<BlazePoseDetection[]> {
    const frame = fullImageRoi(img);
    const s = DETECTOR_SIZE;
    const input = tf.tensor4d(sampleRoi(img, frame, s, { float: { scale: 2 / 255, offset: -1 }, reuse: true }) as Float32Array, [1, s, s, 3]);
    const output = this.detector.execute(input) as Tensor;
    const raw = (await output.data()) as Float32Array;
    tf.dispose([input, output]);
    const found: Array<BlazePoseDetection & { cx: number; cy: number; r: number }> = [];
    const n = this.anchors.length / 2;
    for (let i = 0; i < n; i++) {
      const o = i * 13;
      const score = sigmoid(Math.max(-80, raw[o]!));
      if (score < minScore) continue;
      const ax = this.anchors[2 * i]!;
      const ay = this.anchors[2 * i + 1]!;
      const at = (k: number): [number, number] =>
        roiToImage(frame, raw[o + 5 + 2 * k]! / s + ax, raw[o + 6 + 2 * k]! / s + ay);
      const roi = alignedRoi(at(0), at(1));
      const box = { x: roi.cx - roi.size / 2, y: roi.cy - roi.size / 2, width: roi.size, height: roi.size };
      found.push({ roi, score, box, cx: roi.cx, cy: roi.cy, r: roi.size / 2 });
    }
    found.sort((a, b) => b.score - a.score);
    const kept: BlazePoseDetection[] = [];
    for (const d of found) {
      // Same person: centres closer than a third of the smaller crop.
      const dup = kept.some((k) => Math.hypot(k.roi.cx - d.cx, k.roi.cy - d.cy) < Math.min(k.roi.size, d.roi.size) / 6);
      if (!dup) kept.push({ roi: d.roi, score: d.score, box: d.box });
    }
    return kept;
  }

  /**
   * Landmarks on one aligned crop; with `flip`, averaged with the mirrored crop where the two lie within
   * `agreeRatio` of the crop (otherwise the surer point is kept).
   */
  async landmarksOn(img: RgbImage, roi: Roi, flip = false, agreeRatio = 0.05): Promise<BlazePoseLandmarks> {
    const a = await this.runLandmarks(img, roi, false);
    if (!flip) return a;
    const b = await this.runLandmarks(img, roi, true);
    const points = mergeFlipped(a.points, b.points, FLIP_39.map((_, i) => i), roi.size * agreeRatio);
    return { points, poseScore: (a.poseScore + b.poseScore) / 2 };
  }

  private async runLandmarks(img: RgbImage, roi: Roi, flip: boolean): Promise<BlazePoseLandmarks> {
    const s = LANDMARK_SIZE;
    const input = tf.tensor4d(sampleRoi(img, roi, s, { flip, float: { scale: 1 / 255, offset: 0 }, reuse: true }) as Float32Array, [1, s, s, 3]);
    const [ld, flag] = this.landmarks.execute(input, ['Identity_2:0', 'Identity_3:0']) as Tensor[];
    const raw = (await ld!.data()) as Float32Array;
    const poseScore = ((await flag!.data()) as Float32Array)[0]!;
    tf.dispose([input, ld!, flag!]);
    const pts: Keypoint[] = [];
    for (let i = 0; i < 39; i++) {
      const o = i * 5;
      const [x, y] = roiToImage(roi, raw[o]! / s, raw[o + 1]! / s, flip);
      pts.push([x, y, sigmoid(raw[o + 3]!) * sigmoid(raw[o + 4]!)]);
    }
    return { points: flip ? FLIP_39.map((j) => pts[j]!) : pts, poseScore };
  }

  /** The next crop from a landmark result (MediaPipe's tracking rule: alignment points 33 and 34). */
  static roiFromLandmarks(lm: BlazePoseLandmarks): Roi {
    const c = lm.points[33]!;
    const p = lm.points[34]!;
    return alignedRoi([c[0], c[1]], [p[0], p[1]]);
  }

  dispose(): void {
    this.detector.dispose();
    this.landmarks.dispose();
  }
}
