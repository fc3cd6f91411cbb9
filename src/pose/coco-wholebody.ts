// COCO-WholeBody (133 points) from a COCO-17 pose and a model's named extra points: body 0-16, feet 17-22,
// face 23-90, left hand 91-111, right hand 112-132. Points no model gives stay [0, 0, 0].
import type { Keypoint } from './pose-types.ts';

export const WHOLEBODY_SIZE = 133;

/** WholeBody index of the extra points BlazePose provides. */
const EXTRA_TO_WHOLEBODY: Record<string, number> = {
  left_foot_index: 17, // left big toe
  left_heel: 19,
  right_foot_index: 20, // right big toe
  right_heel: 22,
  left_thumb: 95, // left thumb tip
  left_index: 99, // left index tip
  left_pinky: 111, // left little finger tip
  right_thumb: 116,
  right_index: 120,
  right_pinky: 132,
};

export function toWholeBody(coco17: readonly Keypoint[], extra?: Record<string, Keypoint>): Keypoint[] {
  const out: Keypoint[] = Array.from({ length: WHOLEBODY_SIZE }, () => [0, 0, 0]);
  coco17.forEach((k, i) => (out[i] = [...k] as Keypoint));
  // Hand roots are the wrists.
  if (coco17[9]) out[91] = [...coco17[9]] as Keypoint;
  if (coco17[10]) out[112] = [...coco17[10]] as Keypoint;
  for (const [name, k] of Object.entries(extra ?? {})) {
    const i = EXTRA_TO_WHOLEBODY[name];
    if (i !== undefined) out[i] = [...k] as Keypoint;
  }
  return out;
}
