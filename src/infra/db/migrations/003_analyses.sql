-- Studio analyses: one per (user, media session), covering every view uploaded with it.
CREATE TABLE analyses (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id  text NOT NULL,
  model_name  text NOT NULL,
  profile     text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_progress', 'completed', 'failed')),
  error       text,
  progress    double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  -- How many times a worker has claimed this run; a retry by the user starts a new run at 0.
  attempts    integer NOT NULL DEFAULT 0,
  -- Aggregated result per view and the overall score, kept for listings and weekly insights.
  result      jsonb,
  overall_score integer,
  created_at  timestamptz NOT NULL DEFAULT now(),
  started_at  timestamptz,
  finished_at timestamptz,
  UNIQUE (user_id, session_id)
);
CREATE INDEX analyses_user_created_idx ON analyses (user_id, created_at DESC, id DESC);

-- The media files of an analysis, one per view.
CREATE TABLE media_files (
  analysis_id       uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
  view              text NOT NULL CHECK (view IN ('front', 'left', 'right', 'back', 'auto')),
  object_key        text NOT NULL,
  original_filename text NOT NULL,
  file_type         text NOT NULL CHECK (file_type IN ('image', 'video')),
  size_bytes        bigint NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (analysis_id, view)
);
