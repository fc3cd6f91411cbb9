// A profile is data: the metrics it measures per view, their weights, scoring bands and feedback texts.
// The pipeline (evaluate-view, aggregate, feedback, overlay) reads only these types, so a new profile is a new file.
import type { Point } from './geometry.ts';
import type { KeypointName } from './keypoints.ts';
import type { Band } from './scoring.ts';

export type View = 'front' | 'back' | 'left' | 'right';
/** The view a file is given as: one of the four, or `auto` ("unknown: detect it"). */
export type UploadView = View | 'auto';
/** What keypoint confidences can tell: front and back look alike, so detection never says `back`. */
export type DetectedView = 'front' | 'left' | 'right';
export type Side = 'left' | 'right';

export const VIEWS: readonly View[] = ['front', 'back', 'left', 'right'];
export const FRONTAL_VIEWS: readonly View[] = ['front', 'back'];
export const SIDE_VIEWS: readonly View[] = ['left', 'right'];

/** What a metric's functions see: only points at or above the confidence threshold are handed out. */
export interface MetricContext {
  readonly view: View;
  /** Body side facing the camera in a side view; `left` for front/back views (where it is unused). */
  readonly side: Side;
  /** +1 when the person faces image right (x grows forward), -1 when facing image left; side views only. */
  readonly facing: 1 | -1;
  /** +1 when the person's left is image right (front view), -1 when mirrored (back view); frontal views only. */
  readonly mirror: 1 | -1;
  readonly pxToCm: number;
  /** Confident point by name, or undefined when missing or below the threshold. */
  point(name: KeypointName): Point | undefined;
}

/** Drawing hints for the overlay, in image pixels; a reading says where each angle was measured. */
export type Annotation =
  | { readonly kind: 'angle'; readonly vertex: Point; readonly from: Point; readonly to: Point; readonly label: string }
  | { readonly kind: 'line'; readonly from: Point; readonly to: Point; readonly label?: string };

export interface MetricReading {
  /** Keyed by measurement name: the metric name, or `<metric>_<part>` for metrics with parts. */
  readonly values: Readonly<Record<string, number>>;
  readonly annotations: readonly Annotation[];
}

export interface FeedbackDirection {
  /**
   * Template for the clause after the prefix that feedback writes ("Left view, knee angle 152° (normal 170 to
   * 180°): "), so it need not repeat them: {value} measured value with units, {range} target range, {part} part name.
   */
  readonly critique: string;
  /** Templates too, with the same placeholders. */
  readonly suggestions: readonly string[];
  /** Added after `suggestions` when the result's posture mode matches (desk advice only for someone sitting). */
  readonly suggestionsByMode?: Readonly<Record<string, readonly string[]>>;
}

export interface MetricFeedback {
  readonly commendation: string;
  readonly tooLow: FeedbackDirection;
  readonly tooHigh: FeedbackDirection;
}

export interface MetricDefinition {
  readonly name: string;
  readonly label: string;
  readonly views: readonly View[];
  readonly weight: number;
  readonly units: '°' | 'cm';
  /** Sub-measurements (e.g. left/right), each scored by `band`; the metric's sub-score is their mean. */
  readonly parts?: readonly string[];
  /**
   * Keypoints the metric needs, as alternatives in order of preference: the metric is measured when every point of
   * at least one set is confident, otherwise it is left out and the remaining weights are renormalised.
   */
  keypoints(ctx: MetricContext): readonly (readonly KeypointName[])[];
  /** Null (or a non-finite value) when the geometry is degenerate; the metric is then left out. */
  measure(ctx: MetricContext): MetricReading | null;
  readonly band: Band;
  /** Replaces `band` when the profile's mode classifier says so (e.g. sitting vs standing hip angle). */
  readonly bandsByMode?: Readonly<Record<string, Band>>;
  readonly definition: string;
  readonly normalRange: string;
  readonly source: string;
  /** Set when a keypoint stands in for a clinical landmark; copied into results so nobody mistakes it for one. */
  readonly proxy?: string;
  readonly feedback: MetricFeedback;
}

export interface ProfileDefinition {
  readonly name: string;
  readonly description: string;
  readonly metrics: readonly MetricDefinition[];
  /** Optional posture mode (e.g. `sitting`) that selects `bandsByMode`; undefined = default bands. */
  classifyMode?(ctx: MetricContext): string | undefined;
}

export function measurementNames(metric: MetricDefinition): string[] {
  return metric.parts ? metric.parts.map((part) => `${metric.name}_${part}`) : [metric.name];
}

export function bandFor(metric: MetricDefinition, mode: string | undefined): Band {
  return (mode !== undefined ? metric.bandsByMode?.[mode] : undefined) ?? metric.band;
}

export function metricsForView(profile: ProfileDefinition, view: View): MetricDefinition[] {
  return profile.metrics.filter((m) => m.views.includes(view));
}

type Joint = 'eye' | 'ear' | 'shoulder' | 'elbow' | 'wrist' | 'hip' | 'knee' | 'ankle';

/** `left_knee` etc. for the given body side. */
export function sideKeypoint(side: Side, joint: Joint): KeypointName {
  return `${side}_${joint}`;
}
