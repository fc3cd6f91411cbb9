// The in-thread pose engine: holds the loaded models of one thread and turns one RGB image into the pose of its
// most prominent person. Worker threads each own one engine; nothing here touches the event loop of the app.
import { BlazePoseRunner, BLAZEPOSE_NAMES, BLAZEPOSE_TO_COCO, type BlazePoseLandmarks } from './blazepose-runner.ts';
import { getModelSpec, type ModelSpec, type SearchMethod } from './model-registry.ts';
import { MoveNetRunner, MultiPoseRunner, type PersonCandidate } from './movenet-runner.ts';
import { boxFromKeypoints, meanScore, padBox, prominence, squareRoiFromBox } from './person-geometry.ts';
import { searchBlazePose, searchMoveNet } from './pose-search.ts';
import type { Box, Keypoint, LocatedPerson, PoseResult, RgbImage } from './pose-types.ts';

export interface EngineEstimateOptions {
  model: string;
  /** Previous frame's person box: crop there first instead of searching the whole image. */
  track?: Box | null;
  signal?: AbortSignal;
  /**
   * false: never search the whole image (and never load the person locator for it); when the tracked crop loses the
   * person the estimate resolves to `TRACK_LOST` so the caller can hand the frame to a thread that holds the locator.
   * Default true.
   */
  locate?: boolean;
  /**
   * false: a whole-image search answers from the locator's crop alone, without the second crop built from the body
   * (video: the next frame's tracked crop is built from this answer anyway). Default true.
   */
  refine?: boolean;
  /**
   * Overrides of the model's shipped whole-image search (crops, flip test, merging; see `SearchMethod`). For
   * `npm run eval`, which compares candidates; callers leave it out.
   */
  searchMethod?: Partial<SearchMethod>;
  /**
   * The person to analyse, already located (chosen among everybody `detectPeople` found): the search starts from
   * this box instead of the locator's most prominent person, so a photo's chosen subject is the one analysed.
   */
  person?: LocatedPerson | null;
}

/** What `estimate` answers with `locate: false` when the tracked person is lost (or there is no track). */
export const TRACK_LOST = 'track-lost' as const;

/** Below this mean keypoint confidence there is no person worth analysing. */
const MIN_PERSON_SCORE = 0.2;
/** A tracked crop that scores below this is abandoned and the person searched again. */
const MIN_TRACK_SCORE = 0.3;
/** Crop scale around the last box for tracking, and for the one wider retry before a whole-image search. */
const TRACK_CROP_SCALE = 1.35;
const RESCUE_CROP_SCALE = 2.2;

/** Confidence of a tracked pose: mean of its 10 surest points (a side view hides half the body). */
function trackScore(kps: readonly Keypoint[]): number {
  const top = kps.map((k) => k[2]).sort((a, b) => b - a).slice(0, 10);
  return top.reduce((a, b) => a + b, 0) / top.length;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

export class PoseEngine {
  private readonly movenet = new Map<string, Promise<MoveNetRunner>>();
  private readonly blazepose = new Map<string, Promise<BlazePoseRunner>>();
  private multipose: Promise<MultiPoseRunner> | undefined;
  /** Frames answered from the tracked crop, tracked crops that lost the person, and whole-image searches. */
  readonly counters = { tracked: 0, lost: 0, rescued: 0, searches: 0 };

  /**
   * Loads the landmark models behind `names` now (otherwise they load on first use). The person locator
   * (MultiPose) is loaded on first use only, or here with `locator: true`: video frames that follow a tracked
   * person never need it, and it costs ~90 MB of WASM heap per thread.
   */
  async preload(names: readonly string[], opts: { locator?: boolean } = {}): Promise<void> {
    await Promise.all([
      ...names.map((n) => this.loadFor(getModelSpec(n))),
      ...(opts.locator && names.length > 0 ? [this.multiPoseRunner()] : []),
    ]);
  }

  private loadFor(spec: ModelSpec): Promise<unknown> {
    return spec.family === 'movenet' ? this.moveNetRunner(spec.file) : this.blazePoseRunner(spec.file);
  }

  /** Whether the person locator is loaded (or loading) in this engine. */
  get hasLocator(): boolean {
    return this.multipose !== undefined;
  }

  private moveNetRunner(file: string): Promise<MoveNetRunner> {
    let p = this.movenet.get(file);
    if (!p) this.movenet.set(file, (p = MoveNetRunner.load(file)));
    return p;
  }

  private blazePoseRunner(file: string): Promise<BlazePoseRunner> {
    let p = this.blazepose.get(file);
    if (!p) this.blazepose.set(file, (p = BlazePoseRunner.load(file)));
    return p;
  }

  private multiPoseRunner(): Promise<MultiPoseRunner> {
    this.multipose ??= MultiPoseRunner.load();
    return this.multipose;
  }

  /** Model files loaded (or loading) in this engine. */
  loadedModels(): string[] {
    return [...this.movenet.keys(), ...[...this.blazepose.keys()].flatMap((f) => ['blazepose-detector', f]), ...(this.multipose ? ['movenet-multipose'] : [])];
  }

  /** Everybody MoveNet MultiPose finds in the image (boxes and rough keypoints), in the model's order. */
  async detectPeople(img: RgbImage): Promise<PersonCandidate[]> {
    return (await this.multiPoseRunner()).detect(img);
  }

  /** The most prominent person's candidate box from MoveNet MultiPose, or null. */
  private async locate(img: RgbImage): Promise<PersonCandidate | null> {
    const people = await this.detectPeople(img);
    let best: PersonCandidate | null = null;
    for (const p of people) if (!best || prominence(p.box, p.score) > prominence(best.box, best.score)) best = p;
    return best;
  }

  estimate(img: RgbImage, opts: EngineEstimateOptions & { locate?: true }): Promise<PoseResult | null>;
  estimate(img: RgbImage, opts: EngineEstimateOptions): Promise<PoseResult | null | typeof TRACK_LOST>;
  async estimate(img: RgbImage, opts: EngineEstimateOptions): Promise<PoseResult | null | typeof TRACK_LOST> {
    const spec = getModelSpec(opts.model);
    throwIfAborted(opts.signal);
    return spec.family === 'movenet' ? this.estimateMoveNet(img, spec, opts) : this.estimateBlazePose(img, spec, opts);
  }

  private async estimateMoveNet(img: RgbImage, spec: ModelSpec, opts: EngineEstimateOptions): Promise<PoseResult | null | typeof TRACK_LOST> {
    const runner = await this.moveNetRunner(spec.file);
    if (opts.track) {
      // Video: last frame's box is this frame's crop; one pass unless the person was lost.
      const kps = await runner.runAveraged(img, squareRoiFromBox(opts.track, TRACK_CROP_SCALE), spec.flip);
      if (trackScore(kps) >= MIN_TRACK_SCORE) return (this.counters.tracked++, this.toResult(kps, spec.name));
      this.counters.lost++;
      throwIfAborted(opts.signal);
      // The box is a few frames old when frames run in parallel, so a quick move leaves the crop: one pass on a
      // wider crop around it finds the person again for a third of a whole-image search, on any thread.
      const wide = await runner.runAveraged(img, squareRoiFromBox(opts.track, RESCUE_CROP_SCALE), spec.flip);
      if (trackScore(wide) >= MIN_TRACK_SCORE) return (this.counters.rescued++, this.toResult(wide, spec.name));
      throwIfAborted(opts.signal);
    }
    if (opts.locate === false) return TRACK_LOST;
    this.counters.searches++;
    const person = opts.person ?? await this.locate(img);
    throwIfAborted(opts.signal);
    // A video frame's search (refine: false) answers from one pass on the locator's crop, at a tracked frame's cost.
    const search: SearchMethod = opts.refine === false
      ? { ...spec.search, ...opts.searchMethod, bodyScales: [], flip: spec.flip }
      : { ...spec.search, ...opts.searchMethod };
    const kps = await searchMoveNet(runner, img, person, search, () => throwIfAborted(opts.signal));
    if (!person && meanScore(kps) < MIN_PERSON_SCORE) return null;
    if (meanScore(kps) < MIN_PERSON_SCORE / 2) return null;
    return this.toResult(kps, spec.name);
  }

  private async estimateBlazePose(img: RgbImage, spec: ModelSpec, opts: EngineEstimateOptions): Promise<PoseResult | null | typeof TRACK_LOST> {
    const runner = await this.blazePoseRunner(spec.file);
    if (opts.track) {
      const lm = await runner.landmarksOn(img, squareRoiFromBox(opts.track, 1.35), spec.flip);
      if (lm.poseScore >= 0.5 && trackScore(lm.points.slice(0, 33)) >= MIN_TRACK_SCORE) return (this.counters.tracked++, this.blazeResult(lm, spec.name));
      this.counters.lost++;
      throwIfAborted(opts.signal);
    }
    if (opts.locate === false) return TRACK_LOST;
    this.counters.searches++;
    const person = opts.person ?? await this.locate(img);
    throwIfAborted(opts.signal);
    // A video frame's search (refine: false) leaves out the flip test, as tracked frames do.
    const search: SearchMethod = { ...spec.search, ...opts.searchMethod, ...(opts.refine === false ? { flip: spec.flip } : {}) };
    const lm = await searchBlazePose(runner, img, person, search, () => throwIfAborted(opts.signal));
    return lm ? this.blazeResult(lm, spec.name) : null;
  }

  private blazeResult(lm: BlazePoseLandmarks, model: string): PoseResult | null {
    const kps = BLAZEPOSE_TO_COCO.map((i) => [...lm.points[i]!] as Keypoint);
    const extra: Record<string, Keypoint> = {};
    BLAZEPOSE_NAMES.forEach((name, i) => {
      if (!BLAZEPOSE_TO_COCO.includes(i)) extra[name] = [...lm.points[i]!] as Keypoint;
    });
    const result = this.toResult(kps, model, lm.poseScore);
    if (result) result.extra = extra;
    return result;
  }

  private toResult(kps: Keypoint[], model: string, personScore?: number): PoseResult | null {
    const tight = boxFromKeypoints(kps) ?? boxFromKeypoints(kps, 0);
    if (!tight) return null;
    const score = personScore ?? meanScore(kps);
    return { keypoints: kps, box: padBox(tight, 0.05), score: Math.round(score * 1000) / 1000, model };
  }

  async dispose(): Promise<void> {
    for (const p of this.movenet.values()) (await p).dispose();
    for (const p of this.blazepose.values()) (await p).dispose();
    if (this.multipose) (await this.multipose).dispose();
    this.movenet.clear();
    this.blazepose.clear();
    this.multipose = undefined;
  }
}
