-- The subject's height given at upload, in cm: the scale for every cm value of the analysis. Null means not
-- given, and the worker estimates the scale from body proportions instead (docs/posture-metrics.md, "Units").
ALTER TABLE analyses ADD COLUMN subject_height_cm double precision
  CHECK (subject_height_cm >= 50 AND subject_height_cm <= 250);
