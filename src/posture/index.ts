// The posture core's public API: pure functions over plain data, for the HTTP, worker and CLI layers.
export { AngleOutOfRangeError, KeypointInputError, PostureInputError, isPostureInputError } from './errors.ts';
export type { PostureErrorCode } from './errors.ts';
export { KEYPOINT_NAMES, SKELETON_EDGES, normalizeKeypoints } from './keypoints.ts';
export type { Keypoint, KeypointName } from './keypoints.ts';
export type { DetectedView, View, UploadView, ProfileDefinition, MetricDefinition } from './profile.ts';
export { VIEWS } from './profile.ts';
export { DEFAULT_PROFILE, getProfile, isProfileName, listProfiles } from './profiles.ts';
export { detectSide } from './side-detection.ts';
export { DEFAULT_CONFIDENCE_THRESHOLD, evaluatePose, resolveOptions } from './evaluate-view.ts';
export type { EvaluateOptions, MeasurementUnits, PoseEvaluation, ScoreMap, ScoredMetrics, ViewOption } from './evaluate-view.ts';
export { ASSUMED_ADULT_HEIGHT_CM, SEED_CM_PER_PX, SUBJECT_HEIGHT_RANGE_CM, describeScale } from './scale.ts';
export type { ScaleOption, ScaleSource } from './scale.ts';
export { evaluateFrames } from './aggregate.ts';
export type {
  AggregateOptions,
  AggregatedResults,
  FrameResult,
  GapFrame,
  MeasuredFrame,
  PoseFrameInput,
  VideoEvaluation,
} from './aggregate.ts';
export { VIEW_CONFIDENCE_THRESHOLD, VIEW_TIE_ORDER } from './view-decision.ts';
export type { SideDetectionSummary } from './view-decision.ts';
export { DEFAULT_MAX_GAP_FRAMES, DEFAULT_MAX_GAP_SECONDS } from './track-filter.ts';
export type { TrackFilterOptions } from './track-filter.ts';
export { assertLiveAngle, computeLiveAngles, labelForAngle } from './live-angles.ts';
export type { LiveAngleOptions, LiveAngles, PostureLabel } from './live-angles.ts';
export { buildFeedback, buildViewFeedback, summarizeAssessment, summarizeScore } from './feedback.ts';
export type { AssessedView, FeedbackInput, FeedbackReport, MetricFeedbackEntry, ViewFeedback } from './feedback.ts';
