// The API's wire types as the web app reads them (a subset of what the routes send), apart from the client so
// that pure modules and their Node unit tests can use them without the DOM.
import type { FileFailure } from './api-errors.ts';

export interface User {
  id: string;
  email: string;
  name: string;
}

export type View = 'front' | 'left' | 'right' | 'back';
export const VIEWS: readonly View[] = ['front', 'left', 'right', 'back'];
export type AnalysisStatus = 'pending' | 'in_progress' | 'completed' | 'failed';

export interface UploadResult {
  analysis_id: string;
  session_id: string;
  views_uploaded: string[];
  /** Files the server refused while others were stored (a 207). */
  failures: FileFailure[];
}

export interface AnalysisSummary {
  id: string;
  session_id: string;
  model_name: string;
  profile: string;
  status: AnalysisStatus;
  progress: number;
  error: string | null;
  overall_score: number | null;
  created_at: string;
  feedback: string | null;
  uploads: Record<string, string>;
}

export interface Subject {
  name: string | null;
  age: number | null;
  height_cm: number | null;
  notes: string | null;
}

export interface AnalysisDetail extends AnalysisSummary {
  posture_result: string | null;
  overlay_urls: Record<string, string>;
  overlay_video_urls: Record<string, string>;
  chart_urls: Record<string, string>;
  feedback_json_url: string | null;
  report_url: string | null;
  subject: Subject;
}

/** One view of `posture_result`: the aggregate the studio shows. */
export interface ViewResult {
  file_type: 'image' | 'video';
  detected_view: string | null;
  view_confidence: number | null;
  score: { overall_score?: number } & Record<string, number>;
  raw_scores_percent: Record<string, number>;
  measurements: Record<string, number>;
  warnings: string[];
}

/** One measure of `feedback.json`, with its label, unit, normal range and words. */
export interface MetricFeedback {
  label: string;
  measurement: string;
  value: number;
  units: string;
  target: string;
  score_percent: number;
  commendation?: string;
  critique?: string;
  suggestions: string[];
}
export type FeedbackReport = Partial<Record<View, Record<string, MetricFeedback>>>;
