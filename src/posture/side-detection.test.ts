import { describe, expect, it } from 'vitest';
import type { Keypoint } from './keypoints.ts';
import { detectSide } from './side-detection.ts';

/** 17 points at the origin with the given ear (3/4) and shoulder (5/6) confidences. */
function pose(lEar: number, rEar: number, lSh: number, rSh: number): Keypoint[] {
  const kps: Keypoint[] = Array.from({ length: 17 }, () => [0, 0, 0.9]);
  kps[3] = [0, 0, lEar];
  kps[4] = [0, 0, rEar];
  kps[5] = [0, 0, lSh];
  kps[6] = [0, 0, rSh];
  return kps;
}

describe('detectSide', () => {
  it('two left votes → left, two right votes → right', () => {
    expect(detectSide(pose(0.9, 0.5, 0.9, 0.6)).view).toBe('left');
    expect(detectSide(pose(0.5, 0.9, 0.6, 0.9)).view).toBe('right');
  });

  it('one vote and one abstention decides', () => {
    // ears equal (no vote); shoulders (0.9 − 0.6)/0.9 = 33 % → left
    expect(detectSide(pose(0.8, 0.8, 0.9, 0.6))).toEqual({ view: 'left', votes: { ear: 'none', shoulder: 'left' } });
  });

  it('a tie (one left, one right) is front', () => {
    expect(detectSide(pose(0.9, 0.5, 0.5, 0.9))).toEqual({ view: 'front', votes: { ear: 'left', shoulder: 'right' } });
  });

  it('a difference of exactly 10 % votes; 8 % does not', () => {
    // (1.0 − 0.9)/1.0 = 0.1 (0.09999… in binary) → votes
    expect(detectSide(pose(1.0, 0.9, 0.8, 0.8)).votes.ear).toBe('left');
    // (0.5 − 0.46)/0.5 = 0.08 → no vote
    expect(detectSide(pose(0.5, 0.46, 0.8, 0.8)).view).toBe('front');
  });

  it('a pair with a score below 0.3 does not vote', () => {
    // right ear 0.2: the ear pair abstains although 0.9 vs 0.2 is a big difference; shoulders equal → front
    expect(detectSide(pose(0.9, 0.2, 0.7, 0.7)).view).toBe('front');
    // exactly 0.3 counts: (0.9 − 0.3)/0.9 = 67 % → left
    expect(detectSide(pose(0.9, 0.3, 0.7, 0.7)).view).toBe('left');
  });
});
