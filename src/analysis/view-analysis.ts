import { estimateMedia, type MediaInfo, type MediaPeople, type PoseFrame } from '../pose/analyze-media.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import type { PersonSummary, SubjectChoice, SubjectDecision } from '../pose/subject-tracks.ts';
import {
  evaluateFrames,
  type AggregatedResults,
  type FrameResult,
  type MeasurementUnits,
  type ScaleOption,
  type ScaleSource,
  type ViewOption,
} from '../posture/index.ts';

/**
 * One analysed frame: a measured frame, or a gap (subject not in the frame) whose keypoints, detected view,
 * scores and measurements are all null, never zeros.
 */
export type DetailedFrame = FrameResult;

/** One view's detailed result, the `detailed_{view}.json` document of SPEC section 3. */
export interface DetailedResult {
  file_type: 'image' | 'video';
  view: string;
  /** The clip's detected side (most frequent over the frames with the subject); null when nobody was found. */
  detected_view: string | null;
  /** Share (0-1) of the frames with the subject whose detected side is `detected_view`; null when nobody was found. */
  view_confidence: number | null;
  profile: string;
  model: string;
  analysis_timestamp: string;
  total_frames: number;
  processed_frames: number;
  frame_skip: number;
  fps: number;
  width: number;
  height: number;
  frames_data: DetailedFrame[];
  aggregated_results: AggregatedResults & { overall_score: number | null };
  /** How every cm value in `frames_data` and `aggregated_results` was scaled; null when no cm value could be. */
  scale: ScaleSource | null;
  /** Unit of every measurement name (`°` or `cm`). */
  units: MeasurementUnits;
  /** The frame whose measurements lie closest to the aggregate: the overlay is drawn on it. */
  representative_frame: { frame_index: number; timestamp: number } | null;
  /** Who was analysed (a person id of `people`) and by which rule; frames without them are gaps. */
  subject: SubjectDecision;
  /** Everybody found on the keyframes (every `keyframe_interval` analysed frames). */
  people: PersonSummary[];
  keyframe_interval: number;
  warnings: string[];
}

export interface ViewAnalysisOptions {
  estimator: PoseEstimator;
  model: string;
  view: ViewOption;
  profile: string;
  /** Analyse every n-th video frame; when absent, `analysisFps` frames a second of footage (default 10). */
  frameStep?: number;
  analysisFps?: number;
  /** Analysed frames of a video at most (see EstimateMediaOptions.maxFrames). */
  maxFrames?: number;
  /** The subject's height in cm, when the user gave it: cm values are then scaled by it, else estimated. */
  subjectHeightCm?: number;
  /** Who to analyse when several people are in view (default: the automatic rule). */
  subject?: SubjectChoice;
  onProgress?: (fraction: number) => void;
  /** Frames analysed so far, of those the file holds at this frame step (for a video, its container's count). */
  onFrames?: (done: number, total: number) => void;
  /** Everybody found, and the subject, before the frames are analysed. */
  onPeople?: (people: MediaPeople) => void;
  signal?: AbortSignal;
}

/** Finds the person in every sampled frame of one media file and measures the posture over them. */
export async function analyseViewMedia(input: string | Uint8Array, options: ViewAnalysisOptions): Promise<DetailedResult> {
  let info: MediaInfo | undefined;
  let people: MediaPeople | undefined;
  const frames: PoseFrame[] = [];
  for await (const frame of estimateMedia(input, {
    estimator: options.estimator,
    model: options.model,
    frameStep: options.frameStep,
    analysisFps: options.analysisFps,
    maxFrames: options.maxFrames,
    subject: options.subject,
    signal: options.signal,
    onInfo: (i) => (info = i),
    onPeople: (p) => ((people = p), options.onPeople?.(p)),
    onProgress: (done, total) => options.onProgress?.(total > 0 ? done / total : 1),
  })) {
    frames.push(frame);
    options.onFrames?.(frames.length, Math.max(frames.length, Math.ceil(info!.totalFrames / info!.frameStep)));
  }
  if (!info || !people) throw new Error('media information missing after decoding');
  return buildDetailedResult(info, frames, options, people);
}

/** Frames whose keypoints came from elsewhere (tests, clients): nobody was located, so no subject was chosen. */
const NOT_LOCATED: MediaPeople = { people: [], subject: { id: null, rule: 'not located: keypoints given' }, keyframe_interval: 0 };

export function buildDetailedResult(
  info: MediaInfo,
  frames: readonly PoseFrame[],
  options: Pick<ViewAnalysisOptions, 'model' | 'view' | 'profile' | 'subjectHeightCm'>,
  people: MediaPeople = NOT_LOCATED,
): DetailedResult {
  const detected = frames.filter((f) => f.keypoints).length;
  const warnings: string[] = [];
  if (detected === 0) warnings.push(people.subject.id === null && people.people.length > 0 ? `No subject: ${people.subject.rule} is not in view` : 'No person detected');
  else if (detected < frames.length) warnings.push(`The subject is not found in ${frames.length - detected} of ${frames.length} frames (gaps: null keypoints and measurements)`);
  if (people.people.length > 1) {
    warnings.push(`${people.people.length} people in view; analysed person ${people.subject.id} (${people.subject.rule}). Choose another with the person option.`);
  }

  const evaluation = evaluateFrames(frames.map((f) => ({ frame_index: f.frame_index, timestamp: f.timestamp, keypoints: f.keypoints })), {
    view: options.view,
    profile: options.profile,
    scale: scaleOption(options.subjectHeightCm),
  });
  const representative = evaluation.frames_data.find((f) => f.frame_index === evaluation.representative_frame_index);
  const { aggregated_results: aggregate } = evaluation;
  return {
    file_type: info.fileType,
    view: evaluation.view,
    detected_view: evaluation.detected_view,
    view_confidence: evaluation.view_confidence,
    profile: evaluation.profile,
    model: options.model,
    analysis_timestamp: new Date().toISOString(),
    total_frames: info.totalFrames,
    processed_frames: frames.length,
    frame_skip: info.frameStep,
    fps: info.fps,
    width: info.width,
    height: info.height,
    frames_data: evaluation.frames_data,
    aggregated_results: { ...aggregate, overall_score: aggregate.score.overall_score },
    scale: evaluation.scale,
    units: evaluation.units,
    representative_frame: representative ? { frame_index: representative.frame_index, timestamp: representative.timestamp } : null,
    subject: people.subject,
    people: people.people,
    keyframe_interval: people.keyframe_interval,
    warnings: [...warnings, ...evaluation.warnings],
  };
}

/** Studio analyses and the CLI measure cm against the subject's height when given, else estimate it. */
function scaleOption(subjectHeightCm: number | undefined): ScaleOption {
  return subjectHeightCm === undefined ? { source: 'estimated' } : { source: 'subject_height', heightCm: subjectHeightCm };
}
