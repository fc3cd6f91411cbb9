import type { ColumnType, Generated } from 'kysely';

/** Row types as the database holds them. Wire types live in each feature's schemas file, never these. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_admin: Generated<boolean>;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface RevokedTokensTable {
  jti: string;
  /** `access`: revoked by logout; `ws`: burnt on first use. */
  kind: 'access' | 'ws';
  expires_at: Date;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: ColumnType<Date, Date | undefined, never>;
}

export interface LiveSessionsTable {
  id: string;
  /** Null for an anonymous session. */
  user_id: string | null;
  device_id: string | null;
  is_paused: Generated<boolean>;
  ended_at: Date | null;
  total_seconds: number | null;
  good_seconds: number | null;
  mild_seconds: number | null;
  bad_seconds: number | null;
  /** Since 007: the IP that started an anonymous session; null for owned ones and older sessions. */
  client_ip: ColumnType<string | null, string | null | undefined, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** Since 007: events stored per subject (`user:<id>`, `ip:<address>`) per UTC day, for the daily ceiling. */
export interface LiveEventCountsTable {
  subject: string;
  day: ColumnType<string, string, never>;
  events: number;
}

export interface PostureEventsTable {
  /** int8: drivers return it as a string; repositories convert. */
  id: ColumnType<string, never, never>;
  session_id: string;
  user_id: string | null;
  label: string | null;
  score: number | null;
  angle: number | null;
  neck_tilt: number | null;
  timestamp: ColumnType<Date, Date | undefined, never>;
  metadata: ColumnType<Record<string, unknown>, string | undefined, never>;
  keypoints: ColumnType<Record<string, unknown> | null, string | null | undefined, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface CalibrationsTable {
  id: string;
  user_id: string;
  device_id: string | null;
  baseline_angle: number;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface DeviceMetricsTable {
  id: ColumnType<string, never, never>;
  user_id: string | null;
  /** Nullable since 006: every hint is optional. */
  device_id: string | null;
  battery_level: number | null;
  fps: number | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export type AnalysisStatus = 'pending' | 'in_progress' | 'completed' | 'failed';

export interface AnalysesTable {
  id: string;
  user_id: string;
  session_id: string;
  model_name: string;
  profile: string;
  status: Generated<AnalysisStatus>;
  error: string | null;
  progress: Generated<number>;
  attempts: Generated<number>;
  result: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  overall_score: number | null;
  /** Given at upload (cm, 50-250); null when not given. */
  subject_height_cm: ColumnType<number | null, number | null | undefined, number | null>;
  /** jsonb, given at upload: `{ kind: 'id', id }` or `{ kind: 'point', x, y, t? }`; null: the automatic rule. */
  subject_choice: ColumnType<unknown, string | null | undefined, string | null>;
  /** The person assessed, given at upload (migration 009); null when not given. */
  subject_name: ColumnType<string | null, string | null | undefined, string | null>;
  /** `subject_name` lower-cased without whitespace: how the same person's earlier analyses are found. */
  subject_name_key: ColumnType<string | null, string | null | undefined, string | null>;
  /** `YYYY-MM-DD` text (not a date: the drivers read dates back in different time zones). */
  subject_birth_date: ColumnType<string | null, string | null | undefined, string | null>;
  subject_age: ColumnType<number | null, number | null | undefined, number | null>;
  subject_notes: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
  started_at: Date | null;
  finished_at: Date | null;
  /** The attempt that holds the analysis (set at claim); null when none does. */
  attempt_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Refreshed by the holding attempt while it works; a stale one means that attempt is gone. */
  heartbeat_at: ColumnType<Date | null, Date | null | undefined, Date | string | null>;
}

export interface MediaFilesTable {
  analysis_id: string;
  view: 'front' | 'left' | 'right' | 'back' | 'auto';
  object_key: string;
  original_filename: string;
  file_type: 'image' | 'video';
  /** int8: PostgreSQL returns it as a string. */
  size_bytes: ColumnType<string | number, number, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface DatabaseSchema {
  analyses: AnalysesTable;
  media_files: MediaFilesTable;
  users: UsersTable;
  revoked_tokens: RevokedTokensTable;
  schema_migrations: SchemaMigrationsTable;
  live_sessions: LiveSessionsTable;
  posture_events: PostureEventsTable;
  live_event_counts: LiveEventCountsTable;
  calibrations: CalibrationsTable;
  device_metrics: DeviceMetricsTable;
}
