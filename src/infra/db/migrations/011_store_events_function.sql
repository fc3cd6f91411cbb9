-- A live write group in one round trip: the daily-budget charge and the event insert were two statements per group,
-- and on PGlite each statement has a fixed cost (~170 µs for a bare SELECT, ~500 µs for the charge as a statement)
-- that dwarfed the per-event work. Here both run in one call, planned once per connection.
--
-- Each subject's charge is added unless it would take the subject past its limit (as the statement it replaces did);
-- then the events of the subjects charged are stored through insert_open_events (migration 010). Rows come back
-- charges first (subject and the day's count after the charge; the event columns null), then the stored events in
-- input order (subject and count null). Batch entries carry their quota subject in `subject`.
CREATE FUNCTION store_open_events(charges jsonb, charge_day date, user_limit int, ip_limit int, batch jsonb)
RETURNS TABLE (subject text, day_events int, id bigint, session_id uuid, user_id uuid, "timestamp" timestamptz,
  created_at timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
  charged_subjects text[];
  charged_counts int[];
BEGIN
  WITH charged AS (
    INSERT INTO live_event_counts AS l (subject, day, events)
    SELECT c.subject, charge_day, c.events FROM jsonb_to_recordset(charges) AS c (subject text, events int)
    WHERE c.events <= CASE WHEN c.subject LIKE 'user:%' THEN user_limit ELSE ip_limit END
    ON CONFLICT (subject, day) DO UPDATE SET events = l.events + EXCLUDED.events
    WHERE l.events + EXCLUDED.events <= CASE WHEN EXCLUDED.subject LIKE 'user:%' THEN user_limit ELSE ip_limit END
    RETURNING l.subject, l.events
  )
  SELECT coalesce(array_agg(charged.subject), '{}'), coalesce(array_agg(charged.events), '{}')
  INTO charged_subjects, charged_counts FROM charged;

  RETURN QUERY SELECT s.subject, s.events, NULL::bigint, NULL::uuid, NULL::uuid, NULL::timestamptz, NULL::timestamptz
    FROM unnest(charged_subjects, charged_counts) AS s (subject, events);

  -- Usually every subject is charged and the batch goes as it came; otherwise only the charged subjects' events.
  IF cardinality(charged_subjects) < jsonb_array_length(charges) THEN
    SELECT coalesce(jsonb_agg(e.value ORDER BY e.ordinality), '[]') INTO batch
    FROM jsonb_array_elements(batch) WITH ORDINALITY AS e
    WHERE e.value->>'subject' = ANY (charged_subjects);
  END IF;
  RETURN QUERY SELECT NULL::text, NULL::int, i.id, i.session_id, i.user_id, i."timestamp", i.created_at
    FROM insert_open_events(batch) AS i;
END
$$;
