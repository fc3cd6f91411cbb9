-- Device metrics are hints (SPEC 7): a client sends whichever it has, e.g. only a battery level, so each column may
-- be null. The range checks stay (a CHECK passes on NULL). The API refuses a sample with all three missing.
ALTER TABLE device_metrics ALTER COLUMN device_id DROP NOT NULL;
ALTER TABLE device_metrics ALTER COLUMN battery_level DROP NOT NULL;
ALTER TABLE device_metrics ALTER COLUMN fps DROP NOT NULL;
