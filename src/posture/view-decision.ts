// The view of a whole clip, decided once from every frame with a person, with how sure the decision is.
import type { DetectedView } from './profile.ts';
import { round } from './scoring.ts';

export interface SideDetectionSummary {
  left: number;
  right: number;
  front: number;
}

/** Below this share of agreeing frames a clip's view is called ambiguous (and a warning says so). */
export const VIEW_CONFIDENCE_THRESHOLD = 0.6;
/**
 * Order that breaks a tie in frame counts: `front` first, as a single frame's own tie between the sides reads
 * `front` (side-detection.ts), then `left`, then `right`; fixed, so the same frames always give the same view.
 */
export const VIEW_TIE_ORDER: readonly DetectedView[] = ['front', 'left', 'right'];

export interface ViewDecision {
  /** The clip's view; null when no frame has a person. */
  view: DetectedView | null;
  /** Share (0-1) of the frames with a person whose own detected side is `view`; null when no frame has a person. */
  confidence: number | null;
  /**
   * Confidence below VIEW_CONFIDENCE_THRESHOLD. With three sides, a share of 0.6 or more leaves the runner-up at
   * 0.4 or less, so the threshold also covers near ties.
   */
  ambiguous: boolean;
}

/** The most frequent detected side over the frames with a person, ties broken by VIEW_TIE_ORDER. */
export function decideView(summary: Readonly<SideDetectionSummary>): ViewDecision {
  const total = summary.left + summary.right + summary.front;
  if (total === 0) return { view: null, confidence: null, ambiguous: false };
  let best = VIEW_TIE_ORDER[0]!;
  for (const side of VIEW_TIE_ORDER) if (summary[side] > summary[best]) best = side;
  const confidence = round(summary[best] / total, 3);
  return { view: best, confidence, ambiguous: confidence < VIEW_CONFIDENCE_THRESHOLD };
}

/** "48% left, 45% front, 7% right of 29 frames": the sides by share, largest first, for warnings. */
export function describeSides(summary: Readonly<SideDetectionSummary>): string {
  const total = summary.left + summary.right + summary.front;
  const sides = [...VIEW_TIE_ORDER].sort((a, b) => summary[b] - summary[a] || VIEW_TIE_ORDER.indexOf(a) - VIEW_TIE_ORDER.indexOf(b));
  const parts = sides.map((side) => `${Math.round((100 * summary[side]) / Math.max(1, total))}% ${side}`);
  return `${parts.join(', ')} of ${total} frames with a person`;
}
