// What an overlay picture says, decided apart from how it is drawn: the frame it shows (index, time, the values
// measured on it) and, kept apart, the aggregate the result table reports. Pure: the drawing in overlay.ts only
// lays this out, so a test can check every number drawn against the result it came from. A video is drawn frame by
// frame from `overlayFrameContent`: the same marks, with a caption instead of the panels.
import { measurePose, resolveOptions, viewsAgree } from '../posture/evaluate-view.ts';
import { midpoint, type Point } from '../posture/geometry.ts';
import { VIEW_CONFIDENCE_THRESHOLD } from '../posture/index.ts';
import { keypointOf, type Keypoint } from '../posture/keypoints.ts';
import {
  FRONTAL_VIEWS,
  measurementNames,
  metricsForView,
  VIEWS,
  type Annotation,
  type DetectedView,
  type MetricDefinition,
  type ProfileDefinition,
  type View,
} from '../posture/profile.ts';
import type { ScaleSource } from '../posture/scale.ts';
import { formatValue } from '../posture/scoring.ts';
import { detectSide } from '../posture/side-detection.ts';

/** One frame of a result, as `frames_data` holds it; keypoints and measurements are null in a gap (no subject). */
export interface OverlaySourceFrame {
  frame_index: number;
  timestamp: number;
  keypoints: readonly Keypoint[] | null;
  detected_view?: DetectedView | null;
  score?: { readonly overall_score: number | null } | null;
  raw_scores_percent?: Readonly<Record<string, number>> | null;
  measurements: Readonly<Record<string, number>> | null;
}

/** The parts of one view's detailed result the overlay reads (`DetailedResult` fits). */
export interface OverlaySource {
  file_type: 'image' | 'video';
  /** The scoring view: declared, or the clip's detected view for `auto`. */
  view: string;
  /** The clip's detected side; null when nobody was found. */
  detected_view: string | null;
  /** Share (0-1) of the frames with the subject whose detected side is `detected_view`. */
  view_confidence?: number | null;
  profile: string;
  /** The clip's cm scale; the marks are measured with it so that cm metrics are drawn where the result has them. */
  scale?: ScaleSource | null;
  /** Unit of each measurement name, for names the profile does not define for the view. */
  units?: Readonly<Record<string, '°' | 'cm'>>;
  frames_data: readonly OverlaySourceFrame[];
  aggregated_results: {
    measurements: Readonly<Record<string, number>>;
    raw_scores_percent: Readonly<Record<string, number>>;
    score: { readonly overall_score: number | null };
    frames_used?: number;
  };
  representative_frame: { frame_index: number } | null;
}

export interface OverlayValue {
  /** Measurement name, as in `measurements` (`knee_angle`, `foot_to_shoulder_offset_left`). */
  name: string;
  label: string;
  /** The number as the result holds it. */
  value: number;
  /** The number as drawn: `formatValue` (0.1 precision and the unit), as in the PDF table. */
  text: string;
  /** The metric's sub-score in percent (colours the value); undefined when the result has none. */
  percent: number | undefined;
}

export interface OverlaySection {
  heading: string;
  /** A second, smaller line under the heading: what the values are. */
  note: string;
  values: OverlayValue[];
  score: number | null;
}

/** One annotation drawn on the body, its callout reading the frame's own value. */
export interface OverlayMark {
  annotation: Annotation;
  /** Callout text (`knee 155.2°`), or '' for a mark drawn without one. */
  label: string;
  /** The measurement the callout shows; undefined when it shows none. */
  measurement: string | undefined;
  percent: number | undefined;
}

/** Guides on a photo, PostureScreen style: a faint square grid, and a plumb line through the base of support. */
export interface OverlayGuides {
  /**
   * Where the body stands (picture px): the midpoint of the ankles in a front or back view, the ankle facing the
   * camera in a side view. The plumb line rises from it and the grid is aligned to it; null when those ankles are
   * not seen, and then only the grid is drawn.
   */
  base: Point | null;
}

export interface OverlayContent {
  /** Profile and view, with how sure the view is (`stance · right view (detected in 92% of frames)`). */
  title: string;
  frame: OverlaySection & { index: number; timestamp: number; keypoints: readonly Keypoint[]; marks: OverlayMark[] };
  aggregate: OverlaySection & { frames: number };
  /** A photo whose result is its one frame: drawn as one panel instead of two equal ones. */
  photo: boolean;
  /** Set for photos: a posture photo is judged against the vertical. */
  guides: OverlayGuides | null;
  confidenceThreshold: number;
}

export interface OverlayContentOptions {
  /** The frame to show; default the result's representative frame. */
  frameIndex?: number;
  confidenceThreshold?: number;
}

/** Labels and panels stay bounded whatever a stored result holds. */
const MAX_LABEL = 40;

function clip(text: string, max = MAX_LABEL): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function metricLabel(metric: MetricDefinition, name: string): string {
  // "Craniovertebral angle (forward head)" → "Craniovertebral angle": the panel has the room of one line.
  const base = metric.label.replace(/\s*\(.*\)\s*$/, '');
  const part = metric.parts?.find((p) => `${metric.name}_${p}` === name);
  return part ? `${base} (${part})` : base;
}

/** Values in the profile's metric order; names the profile does not know (another view's) follow under their own name. */
function sectionValues(
  metrics: readonly MetricDefinition[],
  measurements: Readonly<Record<string, number>> | null | undefined,
  percents: Readonly<Record<string, number>> | null | undefined,
  units: Readonly<Record<string, string>> = {},
): OverlayValue[] {
  const out: OverlayValue[] = [];
  const seen = new Set<string>();
  for (const metric of metrics) {
    for (const name of measurementNames(metric)) {
      seen.add(name);
      const value = measurements?.[name];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      out.push({ name, label: clip(metricLabel(metric, name)), value, text: formatValue(value, metric.units), percent: percents?.[metric.name] });
    }
  }
  for (const [name, value] of Object.entries(measurements ?? {})) {
    if (seen.has(name) || typeof value !== 'number' || !Number.isFinite(value)) continue;
    out.push({ name, label: clip(name), value, text: formatValue(value, units[name] ?? '').trim(), percent: percents?.[name] });
  }
  return out;
}

/** "knee 143.1°" → "knee": the profile's short name for a callout, whose number is then the frame's own. */
function calloutName(label: string): string {
  return label.replace(/\s*[-+]?\d+(?:\.\d+)?\s*(?:°|cm)?\s*$/, '').trim();
}

/**
 * Marks on the body: the annotations the profile draws for this frame's keypoints, each labelled with the frame's
 * own value from `measurements` (not re-measured), so the callout and the frame panel can never disagree.
 */
function frameMarks(
  frame: OverlaySourceFrame & { keypoints: readonly Keypoint[] },
  metrics: readonly MetricDefinition[],
  resolved: ReturnType<typeof resolveOptions>,
  scale: ScaleSource | null | undefined,
): OverlayMark[] {
  const marks: OverlayMark[] = [];
  const measured = measurePose(frame.keypoints, resolved, scale);
  for (const [metricName, reading] of measured.readings) {
    const metric = metrics.find((m) => m.name === metricName);
    const names = metric ? measurementNames(metric) : [];
    const labelled = reading.annotations.filter((a) => a.label);
    // The k-th labelled annotation shows the k-th part (foot offset: L then R); a one-value metric may label
    // several annotations with the same value.
    const nameOf = (a: Annotation): string | undefined =>
      labelled.length === names.length ? names[labelled.indexOf(a)] : names.length === 1 ? names[0] : undefined;
    for (const annotation of reading.annotations) {
      const name = annotation.label ? nameOf(annotation) : undefined;
      const value = name === undefined ? undefined : frame.measurements?.[name];
      const shown = metric && name !== undefined && typeof value === 'number' && Number.isFinite(value);
      const short = shown ? calloutName(annotation.label ?? '') || metricLabel(metric, name) : '';
      marks.push({
        annotation,
        label: shown ? clip(`${short} ${formatValue(value, metric.units)}`) : '',
        measurement: shown ? name : undefined,
        percent: frame.raw_scores_percent?.[metricName],
      });
    }
  }
  return marks;
}

/**
 * "right view (detected in 92% of frames)": the scoring view and how sure the detection is; a declared view the
 * picture does not show says what was detected instead.
 */
export function viewLabel(source: OverlaySource): string {
  const view = source.view as View;
  const detected = source.detected_view as DetectedView | null;
  if (source.file_type === 'image') {
    if (!detected || viewsAgree(view, detected)) return `${view} view${detected ? ' (detected)' : ''}`;
    return `${view} view (as declared; the photo looks like a ${detected} view)`;
  }
  const confidence = source.view_confidence;
  const known = typeof confidence === 'number' && Number.isFinite(confidence);
  const share = known ? ` in ${Math.round(100 * Math.min(1, Math.max(0, confidence)))}% of frames` : '';
  const ambiguous = known && confidence < VIEW_CONFIDENCE_THRESHOLD ? ': ambiguous' : '';
  if (!detected) return `${view} view (as declared)`;
  if (view === detected) return `${view} view (detected${share}${ambiguous})`;
  // Front and back look alike to the detector, so a back view can only be declared.
  if (view === 'back' && detected === 'front') return `back view (as declared; front or back${share})`;
  return `${view} view (as declared; detected ${detected}${share})`;
}

/** The base of support a plumb line stands on, or null when the ankles that define it are not confident. */
function baseOfSupport(keypoints: readonly Keypoint[], view: View, threshold: number): Point | null {
  const ankle = (side: 'left' | 'right'): Point | null => {
    const [x, y, s] = keypointOf(keypoints, `${side}_ankle`);
    return s >= threshold ? { x, y } : null;
  };
  if (FRONTAL_VIEWS.includes(view)) {
    const left = ankle('left');
    const right = ankle('right');
    return left && right ? midpoint(left, right) : null;
  }
  // A side view stands on the near ankle; the far one, when it alone is seen, is a step away at most.
  return ankle(view === 'left' ? 'left' : 'right') ?? ankle(view === 'left' ? 'right' : 'left');
}

function sameValues(a: readonly OverlayValue[], b: readonly OverlayValue[]): boolean {
  return a.length === b.length && a.every((v, i) => v.name === b[i]!.name && v.text === b[i]!.text);
}

/**
 * Everything one overlay states, from a view's result: the frame drawn on (default the representative frame),
 * its own time, marks and measurements, and the aggregate of `aggregated_results`, each with its heading.
 * Null when there is no frame with a person to draw on.
 * @throws PostureInputError for an unknown profile or view in the result
 */
export function overlayContent(source: OverlaySource, options: OverlayContentOptions = {}): OverlayContent | null {
  const index = options.frameIndex ?? source.representative_frame?.frame_index;
  const frame = source.frames_data.find((f) => f.frame_index === index);
  if (!frame?.keypoints || !frame.keypoints.some(([, , s]) => s > 0)) return null;
  const keypoints = frame.keypoints;
  const view = source.view as View;
  const resolved = resolveOptions({ profile: source.profile, view, confidenceThreshold: options.confidenceThreshold });
  const metrics = metricsForView(resolved.profile, view);
  const aggregate = source.aggregated_results;
  const photo = source.file_type === 'image';

  const frameValues = sectionValues(metrics, frame.measurements, frame.raw_scores_percent, source.units);
  const aggregateValues = sectionValues(metrics, aggregate.measurements, aggregate.raw_scores_percent, source.units);
  const framesUsed = aggregate.frames_used ?? source.frames_data.length;
  const frameView = frame.detected_view ?? detectSide(keypoints, { minConfidence: resolved.confidenceThreshold }).view;
  const otherView = viewsAgree(view, frameView) ? '' : `; looks like a ${frameView} view`;
  return {
    title: clip(`${resolved.profile.name} · ${viewLabel(source)}`, 2 * MAX_LABEL),
    frame: {
      index: frame.frame_index,
      timestamp: frame.timestamp,
      heading: photo ? `Photo (frame ${frame.frame_index})` : `Frame ${frame.frame_index} · t = ${frame.timestamp.toFixed(2)} s`,
      // A photo's title already says when it does not look like its view.
      note: photo ? 'measured on this photo' : `measured on this picture${otherView}`,
      values: frameValues,
      score: frame.score?.overall_score ?? null,
      keypoints,
      marks: frameMarks({ ...frame, keypoints }, metrics, resolved, source.scale),
    },
    aggregate: {
      heading: photo ? 'Result' : 'Clip result',
      note: photo ? 'the photo is its one frame' : `trimmed mean of ${framesUsed} frame${framesUsed === 1 ? '' : 's'}`,
      values: aggregateValues,
      score: aggregate.score.overall_score,
      frames: framesUsed,
    },
    photo: photo && sameValues(frameValues, aggregateValues) && (frame.score?.overall_score ?? null) === aggregate.score.overall_score,
    guides: photo && VIEWS.includes(view) ? { base: baseOfSupport(keypoints, view, resolved.confidenceThreshold) } : null,
    confidenceThreshold: resolved.confidenceThreshold,
  };
}

/** Two sentences for a report beside the picture: which frame it is, and how it relates to the result table. */
export function overlayCaption(content: OverlayContent): string {
  const { frame, aggregate } = content;
  if (content.photo) return 'The photo as analysed: the values at the joints are its measurements, which are also the result below.';
  const n = aggregate.frames;
  return `Frame ${frame.index} at t = ${frame.timestamp.toFixed(2)} s: the values at the joints were measured on this frame only. ` +
    `The table below is the clip result (trimmed mean of ${n} frame${n === 1 ? '' : 's'}).`;
}

/** What one frame of an overlay video shows: a caption naming the frame and, when the subject is in it, the body. */
export interface OverlayFrameContent {
  /** `stance · right view · frame 42 · t = 1.40 s` */
  caption: string;
  /** Null in a gap: the subject is not in this frame, and no skeleton (least of all the last one seen) is drawn. */
  body: { keypoints: readonly Keypoint[]; marks: OverlayMark[] } | null;
  confidenceThreshold: number;
}

/**
 * The view a frame was measured in: the scoring view when the frame holds that view's measurements (a declared view
 * measures every frame as declared), else the frame's own detected side (an `auto` clip measures each frame as it
 * looks, and only the frames that agree with the clip's view make its aggregate).
 */
function measuredView(profile: ProfileDefinition, scoring: View, frame: OverlaySourceFrame): View {
  const own = frame.detected_view;
  const measured = Object.keys(frame.measurements ?? {});
  if (!own || viewsAgree(scoring, own) || measured.length === 0) return scoring;
  const holds = (view: View) => {
    const names = new Set(metricsForView(profile, view).flatMap(measurementNames));
    return measured.every((name) => names.has(name));
  };
  return holds(scoring) || !holds(own) ? scoring : own;
}

/**
 * One frame of a view's result as its overlay video shows it: the frame's own marks, labelled with its own
 * measurements as on the still overlay, and a caption in place of the panels (which would jump from frame to frame).
 * A frame of an `auto` clip that looks like another view is drawn with that view's marks, which its values are.
 * @throws PostureInputError for an unknown profile or view in the result
 */
export function overlayFrameContent(
  source: OverlaySource,
  frame: OverlaySourceFrame,
  options: Pick<OverlayContentOptions, 'confidenceThreshold'> = {},
): OverlayFrameContent {
  const scoring = source.view as View;
  const { profile, confidenceThreshold } = resolveOptions({ profile: source.profile, view: scoring, confidenceThreshold: options.confidenceThreshold });
  const own = frame.detected_view;
  const other = own && !viewsAgree(scoring, own) ? ` · looks like a ${own} view` : '';
  const caption = clip(`${profile.name} · ${scoring} view · frame ${frame.frame_index} · t = ${frame.timestamp.toFixed(2)} s${other}`, 2 * MAX_LABEL);
  const keypoints = frame.keypoints;
  if (!keypoints?.some(([, , s]) => s > 0)) return { caption, body: null, confidenceThreshold };
  const view = measuredView(profile, scoring, frame);
  const resolved = resolveOptions({ profile, view, confidenceThreshold });
  const marks = frameMarks({ ...frame, keypoints }, metricsForView(profile, view), resolved, source.scale);
  return { caption, body: { keypoints, marks }, confidenceThreshold };
}
