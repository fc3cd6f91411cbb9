// The live API as this page uses it (docs/live-api.md), over the app's cookie-sending client: wire types, the
// calls, and how a failure reads to the user. The body of a posture event is built here and only here, from
// keypoints and numbers: nothing in it can hold a picture.
import { KEYPOINT_NAMES, type Keypoint } from '../../../src/posture/keypoints.ts';

export interface ApiClient {
  request(method: string, path: string, body?: unknown): Promise<any>;
  me(): Promise<any>;
}

export interface SessionSummary {
  total_seconds: number;
  good_seconds: number;
  mild_seconds: number;
  bad_seconds: number;
  event_count: number;
  average_angle: number | null;
}

export interface LiveSessionItem {
  id: string;
  device_id: string | null;
  is_paused: boolean;
  ended: boolean;
  created_at: string;
  ended_at: string | null;
  total_seconds: number | null;
  good_seconds: number | null;
  mild_seconds: number | null;
  bad_seconds: number | null;
}

/** A stored posture event as the API returns it, with the server-computed angles. */
export interface StoredPostureEvent {
  id: number;
  session_id: string;
  label: string | null;
  score: number | null;
  angle: number | null;
  neck_tilt: number | null;
  timestamp: string;
}

export interface PostureEventBody {
  /** Unix milliseconds of the video frame the pose came from. */
  timestamp: number;
  keypoints: Record<string, { x: number; y: number; confidence: number }>;
  metadata: { source: 'web'; model: 'movenet-lightning'; video_width: number; video_height: number };
}

/**
 * Keypoints in pixels of the video frame: the server's angles are not invariant to stretching one axis, so
 * normalising x and y by different sides (640×480) would tilt every angle.
 */
export function toPostureEvent(keypoints: readonly Keypoint[], width: number, height: number, at: number): PostureEventBody {
  const named: PostureEventBody['keypoints'] = {};
  KEYPOINT_NAMES.forEach((name, i) => {
    const [x, y, confidence] = keypoints[i]!;
    named[name] = { x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10, confidence: Math.round(confidence * 100) / 100 };
  });
  return { timestamp: Math.round(at), keypoints: named, metadata: { source: 'web', model: 'movenet-lightning', video_width: width, video_height: height } };
}

export interface ApiFailure {
  /** HTTP status; null when no answer came (network down). */
  status: number | null;
  /** The sentence the app's client made of the failure (web/src/api-errors.ts). */
  message: string;
  /** The live API's own `detail`, for the few answers this page tells apart (a 409 "Session has ended"). */
  detail: string;
  /** From Retry-After, when the client passes it on. */
  retryAfterSeconds: number | null;
}

/** Reads an ApiError of the app's client (status 0 = no answer) into the few facts this page acts on. */
export function readApiError(error: unknown): ApiFailure {
  const e = (error ?? {}) as { status?: unknown; message?: unknown; retryAfter?: unknown; body?: { detail?: unknown } | null };
  const status = typeof e.status === 'number' && e.status > 0 ? e.status : null;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : 'The request failed.';
  const detail = typeof e.body?.detail === 'string' ? e.body.detail : message;
  const retry = typeof e.retryAfter === 'number' ? e.retryAfter : Number.NaN;
  return { status, message, detail, retryAfterSeconds: Number.isFinite(retry) && retry >= 0 ? retry : null };
}

export function describeFailure(action: string, failure: ApiFailure): string {
  return `Could not ${action}. ${failure.message}`;
}

export function liveApi(api: ApiClient) {
  return {
    calibrate: (baselineAngle: number, deviceId: string): Promise<{ calibration_id: string }> =>
      api.request('POST', '/api/calibration/', { baseline_angle: baselineAngle, device_id: deviceId }),
    /** The newest calibration of this device, else of any device (the order the server labels by). */
    async latestCalibration(deviceId: string): Promise<{ baseline_angle: number; created_at: string } | null> {
      const list = (await api.request('GET', '/api/calibration/')) as { device_id: string | null; baseline_angle: number; created_at: string }[];
      return list.find((c) => c.device_id === deviceId) ?? list[0] ?? null;
    },
    start: async (deviceId: string): Promise<string> =>
      ((await api.request('POST', '/api/sessions/start/', { device_id: deviceId })) as { session_id: string }).session_id,
    postEvent: (sessionId: string, event: PostureEventBody): Promise<{ stored_events: number }> =>
      api.request('POST', `/api/sessions/${sessionId}/event/`, event),
    setPaused: (sessionId: string, paused: boolean): Promise<{ is_paused: boolean }> =>
      api.request('POST', `/api/sessions/${sessionId}/${paused ? 'pause' : 'resume'}/`, {}),
    end: async (sessionId: string): Promise<SessionSummary> =>
      ((await api.request('POST', `/api/sessions/${sessionId}/end/`, {})) as { summary: SessionSummary }).summary,
    sessions: (limit: number): Promise<LiveSessionItem[]> => api.request('GET', `/api/users/me/sessions/?limit=${limit}`),
    /** The device's frame rate, a hint for operators (there is no read route). */
    reportFps: (deviceId: string, fps: number): Promise<unknown> =>
      api.request('POST', '/api/device_metrics/', { device_id: deviceId, fps: Math.min(240, Math.round(fps * 10) / 10) }),
    /** A single-use token for the posture feed, which takes its token from the URL, not from the cookie. */
    wsToken: async (): Promise<string> => ((await api.request('GET', '/auth/ws-token')) as { ws_token: string }).ws_token,
  };
}

export type LiveApi = ReturnType<typeof liveApi>;
