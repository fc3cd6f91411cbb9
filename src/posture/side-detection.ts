// Which side of the body faces the camera, from keypoint confidences alone (SPEC 5, "Side detection").
import { keypointOf, type Keypoint, type KeypointName } from './keypoints.ts';
import type { DetectedView } from './profile.ts';

export interface SideDetectionOptions {
  /** Both scores of a pair must reach this for the pair to vote (default 0.3). */
  minConfidence?: number;
  /** Relative difference (L − R)/max(L, R) a pair needs to vote (default 0.10). */
  margin?: number;
}

export type SideVote = 'left' | 'right' | 'none';

export interface SideDetection {
  readonly view: DetectedView;
  readonly votes: { readonly ear: SideVote; readonly shoulder: SideVote };
}

// The ratio is compared with a hair of slack so that an exact 10 % difference votes despite binary rounding.
const EPS = 1e-9;

function vote(keypoints: readonly Keypoint[], left: KeypointName, right: KeypointName, min: number, margin: number) {
  const l = keypointOf(keypoints, left)[2];
  const r = keypointOf(keypoints, right)[2];
  if (l < min || r < min) return 'none';
  const ratio = (l - r) / Math.max(l, r);
  if (ratio >= margin - EPS) return 'left';
  if (ratio <= -margin + EPS) return 'right';
  return 'none';
}

/**
 * The camera sees the nearer side's points more confidently: ears and shoulders each vote; more left votes →
 * `left`, more right → `right`, a tie or no votes → `front` (front and back cannot be told apart this way).
 */
export function detectSide(keypoints: readonly Keypoint[], options: SideDetectionOptions = {}): SideDetection {
  const min = options.minConfidence ?? 0.3;
  const margin = options.margin ?? 0.1;
  const ear = vote(keypoints, 'left_ear', 'right_ear', min, margin);
  const shoulder = vote(keypoints, 'left_shoulder', 'right_shoulder', min, margin);
  const lefts = Number(ear === 'left') + Number(shoulder === 'left');
  const rights = Number(ear === 'right') + Number(shoulder === 'right');
  const view: DetectedView = lefts > rights ? 'left' : rights > lefts ? 'right' : 'front';
  return { view, votes: { ear, shoulder } };
}
