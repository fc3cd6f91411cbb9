-- Ceilings on what one account, or one anonymous client IP, may hold open and store (docs/live-api.md, "Limits").

-- The IP that started an anonymous session: open anonymous sessions are counted per IP, and their events charged
-- to it. Null for owned sessions (they count against the user) and for sessions started before this migration.
ALTER TABLE live_sessions ADD COLUMN client_ip text;

-- The open-session counts at start: partial, so ended sessions (almost all of them) cost nothing to skip.
CREATE INDEX live_sessions_open_user_idx ON live_sessions (user_id, created_at) WHERE ended_at IS NULL AND user_id IS NOT NULL;
CREATE INDEX live_sessions_open_ip_idx ON live_sessions (client_ip, created_at) WHERE ended_at IS NULL AND user_id IS NULL;

-- Events stored per subject (`user:<id>` or `ip:<address>`) per UTC day. One counter row instead of a count over
-- posture_events (up to 100,000 rows per check) or a rate-limit window (one entry per event).
CREATE TABLE live_event_counts (
  subject text NOT NULL,
  day     date NOT NULL,
  events  integer NOT NULL CHECK (events >= 0),
  PRIMARY KEY (subject, day)
);
