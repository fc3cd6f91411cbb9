-- The attempt running an analysis, and when it last showed signs of life. A claim sets both; the running attempt
-- refreshes heartbeat_at while it works. A claim of an in-progress analysis whose heartbeat is fresh is refused,
-- so a retried job never runs beside a live attempt; one whose heartbeat is stale (its process died) is taken over.
ALTER TABLE analyses ADD COLUMN attempt_id uuid;
ALTER TABLE analyses ADD COLUMN heartbeat_at timestamptz;
