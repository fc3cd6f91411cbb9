import type { Db } from '../infra/db/database.ts';

export interface RevocationsRepository {
  revoke(jti: string, kind: 'access' | 'ws', expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /** Records a single-use token id; false when it was already used (the primary key decides, atomically). */
  burnOnce(jti: string, expiresAt: Date): Promise<boolean>;
  pruneExpired(now: Date): Promise<number>;
  /** Revoked access tokens that have not expired yet (what a process must remember to refuse). */
  listRevokedAccess(now: Date): Promise<Array<{ jti: string; expiresAt: Date }>>;
}

export function createRevocationsRepository(db: Db): RevocationsRepository {
  return {
    async revoke(jti, kind, expiresAt) {
      await db.insertInto('revoked_tokens').values({ jti, kind, expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing()).execute();
    },
    async isRevoked(jti) {
      const row = await db.selectFrom('revoked_tokens').select('jti').where('jti', '=', jti).executeTakeFirst();
      return row !== undefined;
    },
    async burnOnce(jti, expiresAt) {
      const row = await db.insertInto('revoked_tokens').values({ jti, kind: 'ws', expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing()).returning('jti').executeTakeFirst();
      return row !== undefined;
    },
    async pruneExpired(now) {
      const result = await db.deleteFrom('revoked_tokens').where('expires_at', '<', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async listRevokedAccess(now) {
      const rows = await db.selectFrom('revoked_tokens').select(['jti', 'expires_at'])
        .where('kind', '=', 'access').where('expires_at', '>', now).execute();
      return rows.map((row) => ({ jti: row.jti, expiresAt: new Date(row.expires_at) }));
    },
  };
}
