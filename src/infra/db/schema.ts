import type { ColumnType, Generated } from 'kysely';

/** Row types as the database holds them. Wire types live in each feature's schemas file, never these. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_admin: Generated<boolean>;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface RevokedTokensTable {
  jti: string;
  /** `access`: revoked by logout; `ws`: burnt on first use. */
  kind: 'access' | 'ws';
  expires_at: Date;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: ColumnType<Date, Date | undefined, never>;
}

export interface DatabaseSchema {
  users: UsersTable;
  revoked_tokens: RevokedTokensTable;
  schema_migrations: SchemaMigrationsTable;
}
