import { Compile } from 'typebox/compile';
import { errors } from '../errors/app-error.ts';
import { isPostureInputError } from '../posture/errors.ts';
import { assertLiveAngle, computeLiveAngles } from '../posture/live-angles.ts';
import { parseNamedKeypoints } from '../posture/keypoints.ts';
import type { StoredKeypoints, ValidatedEvent } from './live-session.ts';
import { PostureEventInput } from './live.schemas.ts';

/** Below this a number is Unix seconds, above it milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const MILLISECONDS_FROM = 1e11;

const checkEvent = Compile(PostureEventInput);

/**
 * Reads one event or a list of events. The whole batch is validated before anything is stored, so a bad event
 * anywhere refuses the batch. The privacy rule is not checked here: the live routes' `refuseRawMedia` hook has
 * already run on the same body. @throws AppError invalid_request with a message fit for a 400 `{detail}`.
 */
export function parseEventBatch(body: unknown): ValidatedEvent[] {
  if (Array.isArray(body)) return body.map((event, i) => parseEvent(event, `events[${i}]`));
  return [parseEvent(body, 'event')];
}

function parseEvent(input: unknown, where: string): ValidatedEvent {
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
  for (const [name, [x, y, confidence]] of Object.entries(parseNamedKeypoints(input))) {
    out[name] = { x, y, confidence };
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
