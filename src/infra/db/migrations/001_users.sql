-- Accounts shared by both client families.
CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL UNIQUE,
  name          text NOT NULL,
  password_hash text NOT NULL,
  is_admin      boolean NOT NULL DEFAULT false,
  settings      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Token ids that must no longer be accepted: access tokens after logout, ws tokens after their one use.
-- Rows are useless once the token would have expired anyway, so they are pruned by expires_at.
CREATE TABLE revoked_tokens (
  jti        text PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('access', 'ws')),
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);
