/** Domain types of live sessions, as services and repositories see them (wire types: live.schemas.ts). */

export interface LiveSession {
  id: string;
  /** Null for an anonymous session: then the id alone gives access. */
  userId: string | null;
  deviceId: string | null;
  isPaused: boolean;
  endedAt: Date | null;
  totals: SessionTotals | null;
  createdAt: Date;
}

export interface SessionTotals {
  totalSeconds: number;
  goodSeconds: number;
  mildSeconds: number;
  badSeconds: number;
}

export interface SessionSummary extends SessionTotals {
  eventCount: number;
  averageAngle: number | null;
}

export type StoredKeypoints = Record<string, { x: number; y: number; confidence: number }>;

/** A posture event that passed validation, before the server labels it and stores it. */
export interface ValidatedEvent {
  /** The client's label; null when the server is to label it from the angle. */
  label: string | null;
  score: number | null;
  angle: number | null;
  neckTilt: number | null;
  /** The client's measurement time; null: the server's receive time. */
  timestamp: Date | null;
  metadata: Record<string, unknown>;
  keypoints: StoredKeypoints | null;
}

export interface PostureEvent {
  id: number;
  sessionId: string;
  userId: string | null;
  label: string | null;
  score: number | null;
  angle: number | null;
  neckTilt: number | null;
  timestamp: Date;
  metadata: Record<string, unknown>;
  keypoints: StoredKeypoints | null;
  createdAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Session ids are UUIDs; anything else names no session (and must not reach the database as a uuid cast). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
