// The pose estimator port: pixels in, the most prominent person's keypoints out. Adapters: the worker-thread pool
// (worker-pool.ts), the remote model-server client (remote-pose-estimator.ts), the in-thread engine (below, for
// scripts and benchmarks) and an in-memory fake for unit tests.
import type { PoseEngine } from './pose-engine.ts';
import type { Box, Keypoint, LocatedPerson, PersonCandidate, PoseResult, RgbImage } from './pose-types.ts';

export interface EstimateOptions {
  model: string;
  signal?: AbortSignal;
  /** The subject's box from a fixed earlier frame (video): used as this frame's crop. */
  track?: Box | null;
  /** A person already located and chosen (see `people`): analysed instead of the most prominent one. */
  person?: LocatedPerson | null;
  /**
   * false: when the tracked crop loses the person, answer null instead of searching the whole image. Video frames
   * use it: the subject is found at keyframes, and a frame it is not in is a gap, never whoever a search finds.
   */
  search?: boolean;
  /**
   * Frame of a video (one of many in a row). An estimator that keeps the person locator in only some of its threads
   * (the worker pool) then makes a whole-image search wait for a thread that already holds it instead of loading
   * another locator (~90 MB per thread): a video's occasional re-searches are not worth a second copy.
   */
  sequence?: boolean;
}

export interface PeopleOptions {
  /** The landmark model the people are located for (estimators that route by model send it the same way). */
  model: string;
  signal?: AbortSignal;
  /** Keyframes of a video: see `EstimateOptions.sequence` (they wait for a thread that holds the locator). */
  sequence?: boolean;
}

export interface PoseEstimator {
  /**
   * Pose of the most prominent person, or null when nobody is found. Adapters that cross threads may take over
   * (transfer) `image.data`: callers must not reuse the pixel buffer after the call.
   */
  estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null>;
  /**
   * Everybody the person locator finds in the image, in a fixed order (the model's). Same transfer rule as
   * `estimate`. Keyframes of a video and the choice of a photo's subject are built on it.
   */
  people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]>;
  /** Public model names this estimator serves. */
  models(): string[];
  /**
   * A pixel buffer of exactly `byteLength` bytes that an earlier `sequence` estimate handed back, or undefined.
   * Video decoding fills these instead of allocating ~2.7 MB per frame (optional: adapters may not recycle).
   */
  pixelBuffer?(byteLength: number): Uint8Array | undefined;
  close(): Promise<void>;
}

export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  constructor(readonly model: string, readonly available: string[]) {
    super(`Invalid model: ${model}. Available models: ${available.join(', ')}`);
  }
}

export function assertServedModel(estimator: { models(): string[] }, model: string): void {
  if (!estimator.models().includes(model)) throw new UnknownModelError(model, estimator.models());
}

/** Runs the engine on the calling thread: for scripts and the bare-model benchmark, never inside the server. */
export class InThreadPoseEstimator implements PoseEstimator {
  // Imported on first use: the TF.js stack costs ~40 MB, and processes that only dispatch to the worker pool (which
  // import this module for the port) must not load it.
  private engine: Promise<PoseEngine> | undefined;
  constructor(private readonly names: string[]) {}

  private getEngine(): Promise<PoseEngine> {
    this.engine ??= import('./pose-engine.ts').then((m) => new m.PoseEngine());
    return this.engine;
  }

  async estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    assertServedModel(this, opts.model);
    return (await this.getEngine()).estimate(image, opts);
  }

  async people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    assertServedModel(this, opts.model);
    return (await this.getEngine()).detectPeople(image);
  }

  async preload(): Promise<void> {
    await (await this.getEngine()).preload(this.names);
  }

  models(): string[] {
    return [...this.names];
  }

  async close(): Promise<void> {
    if (this.engine) await (await this.engine).dispose();
  }
}

/**
 * In-memory fake: a standing figure centred in the image whose size follows the image; `respond` overrides it
 * (return null for "no person").
 */
export class FakePoseEstimator implements PoseEstimator {
  readonly calls: Array<{ width: number; height: number; model: string; track: Box | null; person: Box | null }> = [];

  constructor(
    private readonly names: string[] = ['cx', 'gy'],
    private readonly respond?: (image: RgbImage, opts: EstimateOptions) => PoseResult | null | Promise<PoseResult | null>,
  ) {}

  async estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    assertServedModel(this, opts.model);
    if (opts.signal?.aborted) throw new Error('aborted');
    this.calls.push({ width: image.width, height: image.height, model: opts.model, track: opts.track ?? null, person: opts.person?.box ?? null });
    if (this.respond) return this.respond(image, opts);
    return fakeStandingPose(image.width, image.height, opts.model);
  }

  /** The person `estimate` would answer (the fake has at most one), as the locator would list it. */
  async people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    assertServedModel(this, opts.model);
    const r = this.respond ? await this.respond(image, { model: opts.model }) : fakeStandingPose(image.width, image.height, opts.model);
    return r ? [{ box: r.box, score: r.score, keypoints: r.keypoints }] : [];
  }

  models(): string[] {
    return [...this.names];
  }

  async close(): Promise<void> {}
}

/** A plausible upright front-view pose filling the middle of a `width`×`height` image. */
export function fakeStandingPose(width: number, height: number, model = 'fake'): PoseResult {
  const cx = width / 2;
  const h = height * 0.8;
  const top = height * 0.1;
  const at = (dx: number, fy: number): Keypoint => [cx + dx * h, top + fy * h, 0.9];
  const keypoints: Keypoint[] = [
    at(0, 0.06), at(0.02, 0.04), at(-0.02, 0.04), at(0.04, 0.05), at(-0.04, 0.05),
    at(0.1, 0.18), at(-0.1, 0.18), at(0.12, 0.36), at(-0.12, 0.36), at(0.13, 0.52), at(-0.13, 0.52),
    at(0.07, 0.52), at(-0.07, 0.52), at(0.07, 0.75), at(-0.07, 0.75), at(0.07, 0.98), at(-0.07, 0.98),
  ];
  return { keypoints, box: { x: cx - 0.15 * h, y: top, width: 0.3 * h, height: h }, score: 0.9, model };
}
