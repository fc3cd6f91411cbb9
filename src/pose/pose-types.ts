// Plain data shared by every pose module: images, keypoints and results. No behaviour here.

/** Packed 8-bit RGB pixels, row-major, `data.length === width * height * 3`. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** `[x, y, score]` in pixels of the original image; score in 0..1 (0 = unknown). */
export type Keypoint = [number, number, number];

/** Axis-aligned box in original-image pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PoseResult {
  /** 17 COCO keypoints in COCO order. */
  keypoints: Keypoint[];
  /** Extra named points the model has beyond COCO-17 (BlazePose: heels, feet, fingers, mouth, ...). */
  extra?: Record<string, Keypoint>;
  /** Box around the person (keypoint extent, padded), reusable as the next frame's crop. */
  box: Box;
  /** Overall confidence of the person, 0..1. */
  score: number;
  model: string;
}

/** A person already located: the box, and the locator's rough keypoints when known (crops are built from them). */
export interface LocatedPerson {
  box: Box;
  keypoints?: Keypoint[];
}

/** One person found by the locator (MoveNet MultiPose): a box, a confidence and rough keypoints. */
export interface PersonCandidate {
  box: Box;
  score: number;
  keypoints: Keypoint[];
}

// One list of COCO-17 names for the whole code base: the posture core's.
export { KEYPOINT_NAMES as COCO_KEYPOINT_NAMES } from '../posture/keypoints.ts';
import type { KeypointName } from '../posture/keypoints.ts';

export type CocoKeypointName = KeypointName;

/** Index of each COCO point's mirror image (left <-> right), used by flip averaging. */
export const COCO_FLIP_INDEX: readonly number[] = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15];
