// Which frames of a video are analysed: a rate in frames per second of footage by default, so a video's cost follows
// its duration whatever its frame rate; a fixed step for those who ask for one.

export interface FrameSampling {
  /** Analyse every n-th frame (wins over analysisFps). */
  frameStep?: number;
  /** Analysed frames per second of footage (default DEFAULT_ANALYSIS_FPS). */
  analysisFps?: number;
}

/** Analysed frames per second of footage by default: the cost of a video follows its duration, not its frame rate. */
export const DEFAULT_ANALYSIS_FPS = 10;

/**
 * The video frame step: `frameStep` when given, else the whole step nearest to `analysisFps` analysed frames a
 * second (30 fps → 3, 60 → 6, 25 → 3, 24 → 2; at least 1). Whole steps keep every analysed frame a real frame of
 * the file, at its own time; the rate is therefore within about a quarter of the target for 15 fps and above.
 */
export function frameStepFor(videoFps: number, sampling: FrameSampling): number {
  if (sampling.frameStep !== undefined) return Math.max(1, Math.floor(sampling.frameStep));
  const rate = sampling.analysisFps ?? DEFAULT_ANALYSIS_FPS;
  return Math.max(1, Math.round((videoFps > 0 ? videoFps : 30) / rate));
}
