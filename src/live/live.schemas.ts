import { Type, type Static } from 'typebox';
import type { LiveSession, PostureEvent, SessionSummary } from './live-session.ts';

/** Wire types of the live API (SPEC 7). Field names are the replaced live service's (snake_case). */

const DeviceId = Type.String({ minLength: 1, maxLength: 128 });
/**
 * A number that may also be null (= not given). Written with `nullable` rather than as a union with Type.Null():
 * under the app-wide type coercion a union's number branch turns null into 0, and a null-first union turns 0 into
 * null. With `nullable` ajv coerces only values that are neither (`"45"` → 45).
 */
const nullableNumber = (range: { minimum: number; maximum: number }) =>
  Type.Unsafe<number | null>({ type: 'number', nullable: true, ...range });
/** Bounded: an unbounded total (1e308) was stored as Infinity once rounded, and every later listing failed. */
const Seconds = nullableNumber({ minimum: 0, maximum: 1e9 });
const DateTime = Type.String({ format: 'date-time' });
const Json = Type.Record(Type.String(), Type.Unknown());

export const SessionIdParams = Type.Object({ id: Type.String({ description: 'Live session id (UUID)' }) });

/** Bodies that are entirely optional: a missing body reads as `{}` (see `emptyBodyAsObject`). */
export const StartSessionBody = Type.Object({ device_id: Type.Optional(Type.Union([DeviceId, Type.Null()])) });
export type StartSessionBody = Static<typeof StartSessionBody>;

export const SessionStarted = Type.Object({ session_id: Type.String({ format: 'uuid' }) });

/**
 * One posture event as a client sends it; every field is optional. Documentation only at the HTTP layer: the event
 * route validates with `parseEventBatch` (which checks this schema without coercion and names the bad event).
 */
export const PostureEventInput = Type.Object({
  label: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  score: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  angle: Type.Optional(Type.Union([Type.Number(), Type.Null()], {
    description: 'Spine angle in degrees, 0 to 90; optional (null when omitted), ignored with keypoints (the server computes it)',
  })),
  timestamp: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 64 }), Type.Null()], {
    description: 'When the pose was measured: Unix seconds (or milliseconds) or an ISO-8601 string; default: now',
  })),
  metadata: Type.Optional(Type.Union([Json, Type.Null()])),
  keypoints: Type.Optional(Type.Union([Json, Type.Null()], {
    description: 'COCO name → {x, y, confidence} (or {X, Y, score}, or [x, y, conf]); both shoulders and hips required',
  })),
}, { additionalProperties: true });
export type PostureEventInput = Static<typeof PostureEventInput>;

export const PostureEventBatch = Type.Union([PostureEventInput, Type.Array(PostureEventInput)]);

export const EventsStored = Type.Object({ stored_events: Type.Integer({ minimum: 0 }) });

export const SessionState = Type.Object({ session_id: Type.String({ format: 'uuid' }), is_paused: Type.Boolean() });

export const EndSessionBody = Type.Object({
  total_seconds: Type.Optional(Seconds),
  good_seconds: Type.Optional(Seconds),
  mild_seconds: Type.Optional(Seconds),
  bad_seconds: Type.Optional(Seconds),
});
export type EndSessionBody = Static<typeof EndSessionBody>;

export const SessionSummaryBody = Type.Object({
  total_seconds: Type.Number(),
  good_seconds: Type.Number(),
  mild_seconds: Type.Number(),
  bad_seconds: Type.Number(),
  event_count: Type.Integer(),
  average_angle: Type.Union([Type.Number(), Type.Null()]),
});

export const SessionEnded = Type.Object({
  session_id: Type.String({ format: 'uuid' }),
  ended: Type.Literal(true),
  summary: SessionSummaryBody,
});

export const PostureEventBody = Type.Object({
  id: Type.Integer(),
  session_id: Type.String({ format: 'uuid' }),
  label: Type.Union([Type.String(), Type.Null()]),
  score: Type.Union([Type.Number(), Type.Null()]),
  angle: Type.Union([Type.Number(), Type.Null()]),
  neck_tilt: Type.Union([Type.Number(), Type.Null()]),
  timestamp: DateTime,
  metadata: Json,
  keypoints: Type.Union([Json, Type.Null()]),
  created_at: DateTime,
});
export type PostureEventBody = Static<typeof PostureEventBody>;

/**
 * Pages of events are bounded in bytes: a stored event is at most about 4 KiB (metadata ≤ 2 KiB, keypoints reduced
 * to COCO-17), so a page of 1,000 is at most a few MB to build and send.
 */
export const EVENTS_PAGE_DEFAULT = 500;
export const EVENTS_PAGE_MAX = 1_000;

export const EventsQuery = Type.Object({
  after_id: Type.Optional(Type.Integer({ minimum: 0, description: 'Only events with a larger id (paging: the previous page\'s X-Next-After-Id)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENTS_PAGE_MAX, default: EVENTS_PAGE_DEFAULT })),
});

export const LiveSessionBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  device_id: Type.Union([Type.String(), Type.Null()]),
  is_paused: Type.Boolean(),
  ended: Type.Boolean(),
  created_at: DateTime,
  ended_at: Type.Union([DateTime, Type.Null()]),
  total_seconds: Type.Union([Type.Number(), Type.Null()]),
  good_seconds: Type.Union([Type.Number(), Type.Null()]),
  mild_seconds: Type.Union([Type.Number(), Type.Null()]),
  bad_seconds: Type.Union([Type.Number(), Type.Null()]),
});

export const SessionsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

export const CalibrationInput = Type.Object({
  device_id: Type.Optional(Type.Union([DeviceId, Type.Null()])),
  baseline_angle: Type.Number({ minimum: 0, maximum: 90 }),
});
export type CalibrationInput = Static<typeof CalibrationInput>;

export const CalibrationBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  device_id: Type.Union([Type.String(), Type.Null()]),
  baseline_angle: Type.Number(),
  created_at: DateTime,
});

export const CalibrationCreated = Type.Object({ calibration_id: Type.String({ format: 'uuid' }) });

/**
 * Device health hints: each may be left out or null and is range-checked when sent; a body with none of them is
 * refused by LiveDevicesService (a schema cannot say "at least one of these, other keys ignored" readably).
 */
export const DeviceMetricsInput = Type.Object({
  device_id: Type.Optional(Type.Unsafe<string | null>({ type: 'string', nullable: true, minLength: 1, maxLength: 128 })),
  battery_level: Type.Optional(nullableNumber({ minimum: 0, maximum: 100 })),
  fps: Type.Optional(nullableNumber({ minimum: 0, maximum: 240 })),
});
export type DeviceMetricsInput = Static<typeof DeviceMetricsInput>;

export const DeviceMetricsStored = Type.Object({ stored: Type.Literal(true) });

export const PostureSocketQuery = Type.Object({
  token: Type.Optional(Type.String({ description: 'An access token or a single-use ws token (GET /auth/ws-token)' })),
});

/** Server → client WebSocket messages, a union on `type`; the acknowledgement keeps the replaced service's shape. */
export type PostureSocketMessage =
  | { type: 'history'; events: PostureEventBody[] }
  | { type: 'posture'; event: PostureEventBody };
export const SOCKET_ACK = '{"ack":true}';

export function toPostureEventBody(event: PostureEvent): PostureEventBody {
  return {
    id: event.id,
    session_id: event.sessionId,
    label: event.label,
    score: event.score,
    angle: event.angle,
    neck_tilt: event.neckTilt,
    timestamp: event.timestamp.toISOString(),
    metadata: event.metadata,
    keypoints: event.keypoints,
    created_at: event.createdAt.toISOString(),
  };
}

export function toLiveSessionBody(session: LiveSession): Static<typeof LiveSessionBody> {
  return {
    id: session.id,
    device_id: session.deviceId,
    is_paused: session.isPaused,
    ended: session.endedAt !== null,
    created_at: session.createdAt.toISOString(),
    ended_at: session.endedAt?.toISOString() ?? null,
    total_seconds: session.totals?.totalSeconds ?? null,
    good_seconds: session.totals?.goodSeconds ?? null,
    mild_seconds: session.totals?.mildSeconds ?? null,
    bad_seconds: session.totals?.badSeconds ?? null,
  };
}

export function toSessionSummaryBody(summary: SessionSummary): Static<typeof SessionSummaryBody> {
  return {
    total_seconds: summary.totalSeconds,
    good_seconds: summary.goodSeconds,
    mild_seconds: summary.mildSeconds,
    bad_seconds: summary.badSeconds,
    event_count: summary.eventCount,
    average_angle: summary.averageAngle,
  };
}
