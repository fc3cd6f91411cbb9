import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { toUserBody } from '../auth/auth.schemas.ts';
import { errors } from '../errors/app-error.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import type { User } from './user.ts';
import type { UsersRepository } from './users.repository.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the user pages show beside the account: the user's analysis statistics, from whoever keeps analyses. */
export interface UserStatisticsSource {
  statistics(userId: string): Promise<{
    /** 0..1 fraction. */
    averageOverallScore: number | null;
    latestAnalysisAt: Date | null;
    totalAnalyses: number;
    currentWeekAnalyses: number;
  }>;
}

/** Who may see whom: admins see anyone, others only themselves; anyone else is "not found", as if absent. */
export class UserDirectory {
  constructor(private readonly users: UsersRepository) {}

  async visibleUser(id: string, asker: User): Promise<User> {
    const user = UUID.test(id) && (asker.isAdmin || asker.id === id) ? await this.users.findUserById(id) : null;
    if (!user) throw errors.userNotFound();
    return user;
  }

  list(page: { limit: number; offset: number }): Promise<User[]> {
    return this.users.listUsers(page);
  }
}

export interface UsersRoutesDeps {
  directory: UserDirectory;
  statistics: UserStatisticsSource;
  guards: AuthGuards;
}

const UserWithStatistics = Type.Object({
  id: Type.String(), email: Type.String(), name: Type.String(), is_admin: Type.Boolean(), created_at: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  average_overall_score: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description: "Mean overall score of the user's analyses as a 0..1 fraction (an analysis' own overall_score is 0..100)",
  }),
  latest_analysis_datetime: Type.Union([Type.String(), Type.Null()]),
  total_analyses: Type.Integer(),
  current_week_analyses: Type.Integer({ description: 'Analyses since Monday 00:00 UTC' }),
});

/** The studio's user pages (SPEC section 3): me with my statistics, and the admin's view of every user. */
export async function usersRoutes(fastify: FastifyInstance, deps: UsersRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { directory, guards } = deps;
  const withStatistics = async (user: User) => {
    const stats = await deps.statistics.statistics(user.id);
    return {
      ...toUserBody(user),
      average_overall_score: stats.averageOverallScore,
      latest_analysis_datetime: stats.latestAnalysisAt?.toISOString() ?? null,
      total_analyses: stats.totalAnalyses,
      current_week_analyses: stats.currentWeekAnalyses,
    };
  };

  app.get('/api/user', {
    preHandler: guards.requireUser,
    schema: {
      tags: ['studio: users'], summary: 'Me, with my analysis statistics',
      response: { 200: Type.Object({ user: UserWithStatistics }), ...studioErrors(401) },
    },
  }, async (request) => ({ user: await withStatistics(request.auth!.user) }));

  app.get('/api/users', {
    preHandler: guards.requireAdmin,
    schema: {
      tags: ['studio: admin'], summary: 'Every user (admin)',
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      }),
      response: { 200: Type.Object({ users: Type.Array(UserWithStatistics) }), ...studioErrors(401, 403) },
    },
  }, async (request) => {
    const users = await directory.list({ limit: request.query.limit ?? 50, offset: request.query.offset ?? 0 });
    return { users: await Promise.all(users.map(withStatistics)) };
  });

  app.get('/api/user/:id', {
    preHandler: guards.requireUser,
    schema: {
      tags: ['studio: admin'], summary: 'One user (admin, or yourself)', params: Type.Object({ id: Type.String() }),
      response: { 200: Type.Object({ user: UserWithStatistics }), ...studioErrors(401, 404) },
    },
  }, async (request) => ({ user: await withStatistics(await directory.visibleUser(request.params.id, request.auth!.user)) }));
}
