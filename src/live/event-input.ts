import { Compile } from 'typebox/compile';
import { errors } from '../errors/app-error.ts';
import { isPostureInputError } from '../posture/errors.ts';
import { assertLiveAngle, computeLiveAngles } from '../posture/live-angles.ts';
import { depthExceeds } from '../http/body-depth.ts';
import { KEYPOINT_NAMES, parseNamedKeypoints } from '../posture/keypoints.ts';
import type { StoredKeypoints, ValidatedEvent } from './live-session.ts';
import { PostureEventInput } from './live.schemas.ts';

/** Below this a number is Unix seconds, above it milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const MILLISECONDS_FROM = 1e11;

const checkEvent = Compile(PostureEventInput);

/** Size ceilings of one request's events (defaults: src/config/config.ts `liveLimits`). */
export interface EventInputLimits {
  eventMaxBytes: number;
  eventsPerRequest: number;
  metadataMaxBytes: number;
  metadataMaxDepth: number;
}

export const DEFAULT_EVENT_INPUT_LIMITS: EventInputLimits = {
  eventMaxBytes: 16 * 1024, eventsPerRequest: 100, metadataMaxBytes: 2 * 1024, metadataMaxDepth: 4,
};

/**
 * Reads one event or a list of events. The whole batch is validated before anything is stored, so a bad event
 * anywhere refuses the batch. The privacy rule is not checked here: the live routes' `refuseRawMedia` hook has
 * already run on the same body. @throws AppError invalid_request with a message fit for a 400 `{detail}`.
 */
export function parseEventBatch(body: unknown, limits: EventInputLimits = DEFAULT_EVENT_INPUT_LIMITS): ValidatedEvent[] {
  if (Array.isArray(body)) {
    if (body.length > limits.eventsPerRequest) {
      throw errors.payloadTooLarge(`Too many events in one request: at most ${limits.eventsPerRequest}`);
    }
    // Sizes first, for the whole list: a list refused for one oversized event costs no keypoint geometry.
    body.forEach((event, i) => assertEventSize(event, `events[${i}]`, limits));
    return body.map((event, i) => parseEvent(event, `events[${i}]`, limits));
  }
  assertEventSize(body, 'event', limits);
  return [parseEvent(body, 'event', limits)];
}

/**
 * Keypoints for 17-33 points and a few fields take a few KiB; anything far larger is not a posture sample and would
 * be stored, and read back, whole. The body limit has already bounded the cost of serialising it again here.
 */
function assertEventSize(input: unknown, where: string, limits: EventInputLimits): void {
  if (jsonBytes(input) > limits.eventMaxBytes) {
    throw errors.payloadTooLarge(`Invalid ${where}: an event may take at most ${limits.eventMaxBytes} bytes as JSON`);
  }
}

function parseEvent(input: unknown, where: string, limits: EventInputLimits): ValidatedEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw errors.invalidRequest(`Invalid ${where}: expected an event object`);
  }
  if (!checkEvent.Check(input)) {
    const first = checkEvent.Errors(input)[0];
    const field = first?.instancePath ? `${where}${first.instancePath.replaceAll('/', '.')}` : where;
    throw errors.invalidRequest(`Invalid ${field}: ${first?.message ?? 'invalid value'}`);
  }
  const event = input as PostureEventInput;
  const label = event.label?.trim() ? event.label.trim() : null;
  const timestamp = parseTimestamp(event.timestamp, where);
  const metadata = event.metadata ?? {};
  assertMetadataBounded(metadata, `${where}.metadata`, limits);
  try {
    if (event.keypoints !== undefined && event.keypoints !== null) {
      // The server computes angle, neck tilt and score from the keypoints; client values for them are ignored.
      const angles = computeLiveAngles(event.keypoints);
      return {
        label, timestamp, metadata,
        score: angles.score, angle: angles.angle, neckTilt: angles.neck_tilt,
        keypoints: storedKeypoints(event.keypoints),
      };
    }
    // Every field is optional (SPEC 7): a label-only event (the client judged the posture itself) is stored with a
    // null angle; with neither label nor angle there is nothing to label from and the label stays null too. An
    // angle that is sent is still range-checked.
    const angle = event.angle ?? null;
    if (angle !== null) assertLiveAngle(angle);
    return { label, timestamp, metadata, score: event.score ?? null, angle, neckTilt: null, keypoints: null };
  } catch (error) {
    if (isPostureInputError(error)) throw errors.invalidRequest(error.message);
    throw error;
  }
}

/** Keypoints are stored in one shape whatever the client sent; names outside COCO-17 are dropped. */
function storedKeypoints(input: unknown): StoredKeypoints {
  const out: StoredKeypoints = {};
  const named = parseNamedKeypoints(input);
  for (const name of KEYPOINT_NAMES) {
    const point = named[name];
    if (point) out[name] = { x: point[0], y: point[1], confidence: point[2] };
  }
  return out;
}

function parseTimestamp(value: number | string | null | undefined, where: string): Date | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return parseTimestamp(Number(value), where);
  const date = typeof value === 'number' ? new Date(value >= MILLISECONDS_FROM ? value : value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime()) || date.getTime() < 0) {
    throw errors.invalidRequest(`Invalid ${where}.timestamp: expected Unix seconds or an ISO-8601 date-time`);
  }
  return date;
}

/** Metadata is free-form, so it is where an oversized or deeply nested event would hide; both are bounded. */
function assertMetadataBounded(metadata: Record<string, unknown>, where: string, limits: EventInputLimits): void {
  if (jsonBytes(metadata) > limits.metadataMaxBytes) {
    throw errors.invalidRequest(`Invalid ${where}: at most ${limits.metadataMaxBytes} bytes as JSON`);
  }
  if (depthExceeds(metadata, limits.metadataMaxDepth)) {
    throw errors.invalidRequest(`Invalid ${where}: nested at most ${limits.metadataMaxDepth} levels deep`);
  }
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
