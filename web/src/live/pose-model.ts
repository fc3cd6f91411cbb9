// MoveNet Lightning in the browser: TF.js on its WASM backend, the model and the .wasm binaries served by Postura
// itself (/app/models, /app/tfjs), so the pose is estimated on this device and only keypoints ever leave it.
// Pre- and post-processing follow the server's MoveNetRunner (src/pose/movenet-runner.ts): a square crop scaled to
// the model's input as int32 RGB, output [1, 1, 17, 3] as (y, x, score) normalised to the crop.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { roiToImage, type Roi } from '../../../src/pose/image-ops.ts';
import type { Keypoint } from '../../../src/posture/keypoints.ts';
import { searchRois, trackingRoi } from './pose-crop.ts';

export const MODEL_URL = '/app/models/movenet-lightning.json';
const WASM_PREFIX = '/app/tfjs/';

export interface PoseFrame {
  /** COCO-17 in model order, in pixels of the video frame (not mirrored). */
  keypoints: Keypoint[];
  width: number;
  height: number;
}

export class PoseModel {
  private readonly canvas = document.createElement('canvas');
  private readonly context: CanvasRenderingContext2D;
  /** The crop for the next frame: around the person found in this one, or null to search. */
  private roi: Roi | null = null;
  private searchStep = 0;

  private constructor(
    private readonly model: GraphModel,
    private readonly inputSize: number,
  ) {
    this.canvas.width = inputSize;
    this.canvas.height = inputSize;
    // Read back on the CPU every frame: a GPU-backed canvas would make each getImageData a slow readback.
    this.context = this.canvas.getContext('2d', { willReadFrequently: true })!;
  }

  /** @throws when the WASM backend or the model cannot be loaded (the caller says so to the user). */
  static async load(): Promise<PoseModel> {
    setWasmPaths(WASM_PREFIX);
    // setBackend resolves false rather than throwing; a silent fall back to the CPU backend would be 30× slower.
    if (!(await tf.setBackend('wasm'))) throw new Error('the WebAssembly backend did not start');
    await tf.ready();
    const model = await loadGraphModel(MODEL_URL);
    const size = model.inputs[0]?.shape?.[1] ?? 192;
    return new PoseModel(model, size);
  }

  /** One pass on the video's current frame; null while the video has no frame yet. */
  async estimate(video: HTMLVideoElement): Promise<PoseFrame | null> {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (width === 0 || height === 0) return null;
    const search = searchRois(width, height);
    const roi = this.roi ?? search[this.searchStep++ % search.length]!;
    const s = this.inputSize;
    // Outside the frame the crop is black, as the server's sampleRoi pads it.
    this.context.fillStyle = '#000';
    this.context.fillRect(0, 0, s, s);
    this.context.drawImage(video, roi.cx - roi.size / 2, roi.cy - roi.size / 2, roi.size, roi.size, 0, 0, s, s);
    const input = tf.tidy(() => tf.expandDims(tf.browser.fromPixels(this.context.getImageData(0, 0, s, s), 3), 0));
    const output = this.model.execute(input) as tf.Tensor;
    const raw = (await output.data()) as Float32Array;
    tf.dispose([input, output]);
    const keypoints: Keypoint[] = [];
    for (let i = 0; i < 17; i++) {
      const [x, y] = roiToImage(roi, raw[i * 3 + 1]!, raw[i * 3]!);
      keypoints.push([x, y, raw[i * 3 + 2]!]);
    }
    this.roi = trackingRoi(keypoints, width, height);
    return { keypoints, width, height };
  }

  dispose(): void {
    this.model.dispose();
  }
}
