import { Type, type Static } from 'typebox';
import type { User } from '../users/user.ts';

/** Fields are optional in the schema so a missing one gets the replaced services' own message, not a schema error. */
export const StudioRegisterBody = Type.Object({
  email: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
});
export type StudioRegisterBody = Static<typeof StudioRegisterBody>;

export const LoginBody = Type.Object({
  email: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
});
export type LoginBody = Static<typeof LoginBody>;

export const LiveSignupBody = Type.Object({
  name: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type LiveSignupBody = Static<typeof LiveSignupBody>;

export const UserBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  is_admin: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  settings: Type.Record(Type.String(), Type.Unknown()),
}, { $id: 'User' });
export type UserBody = Static<typeof UserBody>;

export const LiveMeBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  settings: Type.Record(Type.String(), Type.Unknown()),
});

export function toUserBody(user: User): UserBody {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    is_admin: user.isAdmin,
    created_at: user.createdAt.toISOString(),
    settings: user.settings,
  };
}
