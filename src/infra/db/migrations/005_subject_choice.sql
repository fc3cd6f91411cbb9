-- Who to analyse when several people are in view, chosen at upload (the `person` field) and applied to every view:
-- {"kind":"id","id":2} (a person number as `postura analyze --list-people` prints them) or
-- {"kind":"point","x":640,"y":360,"t":2.5} (a point on the person in original pixels, at t seconds; t optional).
-- Null means the automatic rule (src/pose/subject-tracks.ts, chooseSubject).
ALTER TABLE analyses ADD COLUMN subject_choice jsonb
  CHECK (subject_choice IS NULL OR subject_choice->>'kind' IN ('id', 'point'));
