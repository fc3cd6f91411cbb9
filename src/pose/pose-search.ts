// Whole-image search: from the located person to keypoints, as a test-time ensemble of crops (and mirrored crops)
// chosen by `SearchMethod`. The engine comes here for photos and for video frames whose tracked person was lost;
// tracked video frames never do (their cost stays one pass). Nothing here is random or timed: the same image and
// options always give the same keypoints.
import { BlazePoseRunner, type BlazePoseLandmarks } from './blazepose-runner.ts';
import { fullImageRoi, type Roi } from './image-ops.ts';
import type { SearchMethod } from './model-registry.ts';
import type { MoveNetRunner } from './movenet-runner.ts';
import { bodyCropRoi, mergePasses, prominence, scaleRoi, squareRoiFromBox } from './person-geometry.ts';
import type { Box, Keypoint, LocatedPerson, RgbImage } from './pose-types.ts';

/** The person to analyse: a box, with the locator's rough keypoints when the locator found the person itself. */
export type { LocatedPerson };

/** A BlazePose result below this person probability is nobody. */
export const MIN_BLAZEPOSE_SCORE = 0.5;
/** Crop side around a bare box (no keypoints to build a body crop from), × its longer edge. */
const BOX_CROP_SCALE = 1.3;

/** Called between passes; throws when the caller gave up (abort). */
type Checkpoint = () => void;

async function moveNetPasses(runner: MoveNetRunner, img: RgbImage, roi: Roi, flip: boolean): Promise<Keypoint[][]> {
  const plain = await runner.run(img, roi, false);
  return flip ? [plain, await runner.run(img, roi, true)] : [plain];
}

/**
 * MoveNet: a first crop around the located person (or the whole image), then MoveNet's own body crop built from
 * that answer (limbs the box cut off come back into view) at each of `bodyScales`, every crop optionally mirrored
 * too; all passes are merged by `mergePasses` (refined crops first, so they win ties).
 */
export async function searchMoveNet(
  runner: MoveNetRunner,
  img: RgbImage,
  person: LocatedPerson | null,
  s: SearchMethod,
  checkpoint: Checkpoint,
): Promise<Keypoint[]> {
  const first = person ? squareRoiFromBox(person.box, s.boxScale) : fullImageRoi(img);
  // The first crop is mirrored too only when its passes take part in the answer (else it only places the body crop).
  const firstPasses = await moveNetPasses(runner, img, first, s.flip && (s.keepFirst || s.bodyScales.length === 0));
  const answer = mergePasses(firstPasses, first.size * s.agreeRatio);
  const body = s.bodyScales.length > 0 ? bodyCropRoi(answer) : null;
  if (!body) return answer;
  const passes: Keypoint[][] = [];
  for (const k of s.bodyScales) {
    checkpoint();
    passes.push(...(await moveNetPasses(runner, img, scaleRoi(body, k), s.flip)));
  }
  if (s.keepFirst) passes.push(...firstPasses);
  return mergePasses(passes, body.size * s.agreeRatio);
}

/** Upright crop around a located person: MoveNet's body crop from its keypoints, else a square around its box. */
export function personCrop(person: LocatedPerson): Roi {
  const kps = person.keypoints;
  return (kps && kps.length === 17 ? bodyCropRoi(kps) : null) ?? squareRoiFromBox(person.box, BOX_CROP_SCALE);
}

/**
 * The first BlazePose crop for the located person. 'locator': around the person's keypoints (so cx and gy analyse
 * the same person, and a person too small for the BlazePose detector is still found); 'detector': the detection
 * whose centre lies in the person's box, aligned by the detector. With nobody located, the most prominent detection.
 */
export async function blazePoseCrop(runner: BlazePoseRunner, img: RgbImage, person: LocatedPerson | null, s: SearchMethod): Promise<Roi | null> {
  if (person && s.crop === 'locator') return personCrop(person);
  const detections = await runner.detect(img);
  if (!person) {
    let best = detections[0];
    for (const d of detections) if (prominence(d.box, d.score) > prominence(best!.box, best!.score)) best = d;
    return best?.roi ?? null;
  }
  const b = person.box;
  const inside = detections.filter(
    (d) => d.roi.cx >= b.x && d.roi.cx <= b.x + b.width && d.roi.cy >= b.y && d.roi.cy <= b.y + b.height,
  );
  inside.sort((x, y) => y.score - x.score);
  return inside[0]?.roi ?? personCrop(person);
}

/** BlazePose on the first crop, then (`realign`) on the crop its own alignment points define; null: nobody. */
export async function searchBlazePose(
  runner: BlazePoseRunner,
  img: RgbImage,
  person: LocatedPerson | null,
  s: SearchMethod,
  checkpoint: Checkpoint,
): Promise<BlazePoseLandmarks | null> {
  const roi = await blazePoseCrop(runner, img, person, s);
  if (!roi) return null;
  checkpoint();
  let lm = await runner.landmarksOn(img, roi, s.flip, s.agreeRatio);
  if (s.realign && lm.poseScore >= MIN_BLAZEPOSE_SCORE) {
    checkpoint();
    const again = await runner.landmarksOn(img, BlazePoseRunner.roiFromLandmarks(lm), s.flip, s.agreeRatio);
    if (again.poseScore >= lm.poseScore * 0.9) lm = again;
  }
  return lm.poseScore >= MIN_BLAZEPOSE_SCORE ? lm : null;
}
