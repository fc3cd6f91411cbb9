-- Live sessions (family B): keypoint-only sessions, their posture events, per-device calibrations and metrics.

-- A live session; its random id is a capability (whoever holds it may post events). user_id is null for
-- anonymous sessions. Totals stay null until the session ends.
CREATE TABLE live_sessions (
  id            uuid PRIMARY KEY,
  user_id       uuid REFERENCES users(id) ON DELETE CASCADE,
  device_id     text,
  is_paused     boolean NOT NULL DEFAULT false,
  ended_at      timestamptz,
  total_seconds double precision,
  good_seconds  double precision,
  mild_seconds  double precision,
  bad_seconds   double precision,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_sessions_user_created_idx ON live_sessions (user_id, created_at DESC);

-- One posture event. user_id repeats the session's owner so the per-user feed and history need no join.
-- timestamp is the client's moment of measurement (the server's receive time when the client sent none).
CREATE TABLE posture_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  uuid NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
  user_id     uuid REFERENCES users(id) ON DELETE CASCADE,
  label       text,
  score       double precision,
  angle       double precision CHECK (angle IS NULL OR (angle >= 0 AND angle <= 90)),
  neck_tilt   double precision,
  "timestamp" timestamptz NOT NULL DEFAULT now(),
  metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
  keypoints   jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posture_events_session_idx ON posture_events (session_id, id);
CREATE INDEX posture_events_user_created_idx ON posture_events (user_id, created_at DESC, id DESC);

-- A user's upright baseline, per device when given; the latest one labels that user's events.
CREATE TABLE calibrations (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  device_id      text,
  baseline_angle double precision NOT NULL CHECK (baseline_angle >= 0 AND baseline_angle <= 90),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calibrations_user_created_idx ON calibrations (user_id, created_at DESC);

-- Client device health samples (battery, frame rate), optionally tied to the user who sent them.
CREATE TABLE device_metrics (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       uuid REFERENCES users(id) ON DELETE CASCADE,
  device_id     text NOT NULL,
  battery_level double precision NOT NULL CHECK (battery_level >= 0 AND battery_level <= 100),
  fps           double precision NOT NULL CHECK (fps >= 0 AND fps <= 240),
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_metrics_device_created_idx ON device_metrics (device_id, created_at DESC);
