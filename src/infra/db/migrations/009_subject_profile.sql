-- The person assessed, given at upload and separate from the account (a clinician's account assesses many people).
-- The birth date is kept as ISO text, not a date: the pg driver turns a date into a JavaScript Date at local
-- midnight and PGlite at UTC midnight, so the same row would read back as different days. subject_name_key is the
-- name lower-cased without whitespace (computed by the application, src/analysis/subject-details.ts): the previous
-- assessment of the same person is the latest completed analysis of the same user with the same key.
ALTER TABLE analyses ADD COLUMN subject_name text CHECK (char_length(subject_name) BETWEEN 1 AND 100);
ALTER TABLE analyses ADD COLUMN subject_name_key text;
ALTER TABLE analyses ADD COLUMN subject_birth_date text CHECK (subject_birth_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$');
ALTER TABLE analyses ADD COLUMN subject_age smallint CHECK (subject_age BETWEEN 1 AND 120);
ALTER TABLE analyses ADD COLUMN subject_notes text CHECK (char_length(subject_notes) BETWEEN 1 AND 1000);
ALTER TABLE analyses ADD CONSTRAINT analyses_subject_age_or_birth_date
  CHECK (subject_age IS NULL OR subject_birth_date IS NULL);
CREATE INDEX analyses_subject_idx ON analyses (user_id, subject_name_key, created_at DESC)
  WHERE subject_name_key IS NOT NULL;
