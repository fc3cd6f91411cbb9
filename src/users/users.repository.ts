import type { Selectable } from 'kysely';
import type { Db } from '../infra/db/database.ts';
import type { UsersTable } from '../infra/db/schema.ts';
import type { User, UserWithPasswordHash } from './user.ts';

const UNIQUE_VIOLATION = '23505';

export interface NewUser {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  isAdmin?: boolean;
  settings?: Record<string, unknown>;
}

export interface UsersRepository {
  /** Returns null when the email is already taken (decided by the unique index, not a prior read). */
  insertUser(user: NewUser): Promise<User | null>;
  findUserByEmail(email: string): Promise<UserWithPasswordHash | null>;
  findUserById(id: string): Promise<User | null>;
  setAdmin(id: string, isAdmin: boolean): Promise<void>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /** Newest first, for admins. */
  listUsers(options: { limit: number; offset: number }): Promise<User[]>;
}

export function createUsersRepository(db: Db): UsersRepository {
  return {
    async insertUser(user) {
      try {
        const row = await db
          .insertInto('users')
          .values({
            id: user.id,
            email: user.email,
            name: user.name,
            password_hash: user.passwordHash,
            is_admin: user.isAdmin ?? false,
            settings: JSON.stringify(user.settings ?? {}),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toUser(row);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
        throw error;
      }
    },
    async findUserByEmail(email) {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
    },
    async findUserById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async setAdmin(id, isAdmin) {
      await db.updateTable('users').set({ is_admin: isAdmin }).where('id', '=', id).execute();
    },
    async listUsers({ limit, offset }) {
      const rows = await db.selectFrom('users').selectAll().orderBy('created_at', 'desc').orderBy('id')
        .limit(limit).offset(offset).execute();
      return rows.map(toUser);
    },
    async updatePasswordHash(id, passwordHash) {
      await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
    },
  };
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isAdmin: row.is_admin,
    settings: row.settings ?? {},
    createdAt: new Date(row.created_at),
  };
}
