import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { toUserBody } from '../auth/auth.schemas.ts';
import { errors } from '../errors/app-error.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import { emptyBodyAsObject } from '../http/empty-body.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { JobQueue } from '../infra/queue/job-queue.ts';
import type { MediaSessionsService } from '../media/media-sessions.service.ts';
import { transactionExecutor } from '../media/media-upload.service.ts';
import type { User } from '../users/user.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import type { AnalysesRepository, Analysis } from './analyses.repository.ts';
import { framesCsv } from './frames-csv.ts';
import { summariseWeeks, weekStart } from './analysis-insights.ts';
import type { DetailedResult } from './view-analysis.ts';

export interface AnalysisRoutesDeps {
  analyses: AnalysesRepository;
  users: UsersRepository;
  sessions: MediaSessionsService;
  store: ObjectStore;
  queue: JobQueue;
  guards: AuthGuards;
  models: readonly string[];
  signedUrlTtlSeconds: number;
}

const tags = ['studio: analyses'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IdParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
const AnalysisSummary = Type.Object({
  id: Type.String(), user_id: Type.String(), session_id: Type.String(), model_name: Type.String(), profile: Type.String(),
  status: Type.String(), progress: Type.Number(), error: Type.Union([Type.String(), Type.Null()]),
  overall_score: Type.Union([Type.Integer(), Type.Null()]), created_at: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]), finished_at: Type.Union([Type.String(), Type.Null()]),
});
const ListResponse = Type.Object({ analyses: Type.Array(AnalysisSummary), next_cursor: Type.Union([Type.String(), Type.Null()]) });
const UrlMap = Type.Record(Type.String(), Type.String());
const DetailResponse = Type.Object({
  ...AnalysisSummary.properties,
  filename: Type.Union([Type.String(), Type.Null()]),
  feedback: Type.Union([Type.String(), Type.Null()]),
  posture_result: Type.Union([Type.String(), Type.Null()]),
  uploads: UrlMap, analysis_json_urls: UrlMap, overlay_urls: UrlMap,
  feedback_json_url: Type.Union([Type.String(), Type.Null()]),
  report_url: Type.Union([Type.String(), Type.Null()]),
});

function toSummary(a: Analysis) {
  return {
    id: a.id, user_id: a.userId, session_id: a.sessionId, model_name: a.modelName, profile: a.profile, status: a.status,
    progress: a.progress, error: a.error, overall_score: a.overallScore, created_at: a.createdAt.toISOString(),
    started_at: a.startedAt?.toISOString() ?? null, finished_at: a.finishedAt?.toISOString() ?? null,
  };
}

/** Studio analysis routes of SPEC section 3. Another user's analysis is answered 404, as if it did not exist. */
export async function analysisRoutes(fastify: FastifyInstance, deps: AnalysisRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { analyses, store, guards } = deps;
  const sign = (key: string, filename?: string) =>
    store.signedGetUrl(key, { expiresInSeconds: deps.signedUrlTtlSeconds, ...(filename ? { filename } : {}) });

  /** The analysis when this user may see it (owner or admin), else 404. */
  async function visible(id: string, user: User): Promise<Analysis> {
    const analysis = UUID.test(id) ? await analyses.findById(id) : null;
    if (!analysis || (analysis.userId !== user.id && !user.isAdmin)) throw errors.notFound('Analysis');
    return analysis;
  }

  app.get('/api/analysis/list', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'My analyses, newest first', querystring: ListQuery, response: { 200: ListResponse, ...studioErrors(400, 401) } },
  }, async (request) => {
    const page = await analyses.listByUser(request.auth!.user.id, { limit: request.query.limit ?? 20, cursor: request.query.cursor });
    return { analyses: page.analyses.map(toSummary), next_cursor: page.nextCursor };
  });

  app.get('/api/analysis/summary', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'Weekly trends and insights over my analyses', response: { ...studioErrors(401) } },
  }, async (request) => {
    const now = new Date();
    const since = new Date(weekStart(now).getTime() - 3 * 7 * 24 * 3600 * 1000);
    return summariseWeeks(await analyses.listAllForUser(request.auth!.user.id, since), now);
  });

  app.get('/api/analysis/:id', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'One analysis with signed URLs of its media and results', params: IdParams, response: { 200: DetailResponse, ...studioErrors(401, 404) } },
  }, async (request) => {
    const analysis = await visible(request.params.id, request.auth!.user);
    const files = await analyses.mediaFiles(analysis.id);
    const { userId, sessionId } = analysis;
    const result = analysis.result as { summary?: string; views?: Record<string, unknown> } | null;
    const resultViews = Object.keys(result?.views ?? {});
    const completed = analysis.status === 'completed';
    const urls = async (keyOf: (view: string) => string) =>
      Object.fromEntries(await Promise.all(resultViews.map(async (view) => [view, await sign(keyOf(view))] as const)));
    return {
      ...toSummary(analysis),
      filename: files[0]?.originalFilename ?? null,
      feedback: result?.summary ?? null,
      posture_result: result?.views ? JSON.stringify(result.views) : null,
      uploads: Object.fromEntries(await Promise.all(files.map(async (f) => [f.view, await sign(f.objectKey, f.originalFilename)] as const))),
      analysis_json_urls: completed ? await urls((view) => objectKeys.detailed(userId, sessionId, view)) : {},
      overlay_urls: completed ? await urls((view) => objectKeys.overlay(userId, sessionId, view)) : {},
      feedback_json_url: completed ? await sign(objectKeys.feedback(userId, sessionId)) : null,
      report_url: completed ? await sign(objectKeys.report(userId, sessionId), `${sessionId}_report.pdf`) : null,
    };
  });

  app.get('/api/analysis/report/:id', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'Signed URL of the PDF report', params: IdParams, response: { 200: Type.Object({ url: Type.String() }), ...studioErrors(401, 404, 409) } },
  }, async (request) => {
    const analysis = await visible(request.params.id, request.auth!.user);
    if (analysis.status !== 'completed') throw errors.conflict(`The report is ready when the analysis is completed (now ${analysis.status})`);
    return { url: await sign(objectKeys.report(analysis.userId, analysis.sessionId), `${analysis.sessionId}_report.pdf`) };
  });

  app.get('/api/analysis/:id/frames.csv', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Per-frame series of one view as CSV', params: IdParams,
      querystring: Type.Object({ view: Type.String({ maxLength: 10 }) }), produces: ['text/csv'],
      response: { ...studioErrors(400, 401, 404, 409) },
    },
  }, async (request, reply) => {
    const analysis = await visible(request.params.id, request.auth!.user);
    const view = request.query.view;
    if (!['front', 'left', 'right', 'back'].includes(view)) throw errors.invalidRequest('view must be front, left, right or back');
    if (analysis.status !== 'completed') throw errors.conflict(`The analysis is ${analysis.status}`);
    const key = objectKeys.detailed(analysis.userId, analysis.sessionId, view);
    if (!(await store.head(key))) throw errors.notFound(`Results of view ${view}`);
    const detailed = JSON.parse((await store.getBuffer(key)).toString()) as DetailedResult;
    return reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${analysis.sessionId}_${view}_frames.csv"`)
      .send(framesCsv(detailed));
  });

  app.delete('/api/analysis/:id', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'Delete an analysis with its media and results', params: IdParams, response: { 200: Type.Object({ message: Type.String(), id: Type.String() }), ...studioErrors(401, 404) } },
  }, async (request) => {
    const analysis = await visible(request.params.id, request.auth!.user);
    await deps.sessions.deleteAnalysis(analysis);
    return { message: 'Analysis deleted successfully', id: analysis.id };
  });

  app.post('/api/analysis/retry/:id', {
    preHandler: guards.requireUser,
    preValidation: emptyBodyAsObject,
    schema: {
      tags, summary: 'Run a failed or completed analysis again, optionally with another model', params: IdParams,
      body: Type.Optional(Type.Object({ model: Type.Optional(Type.String()) })),
      response: { 200: Type.Object({ message: Type.String(), analysis: AnalysisSummary }), ...studioErrors(400, 401, 404, 409) },
    },
  }, async (request) => {
    const analysis = await visible(request.params.id, request.auth!.user);
    const model = request.body?.model;
    if (model !== undefined && !deps.models.includes(model)) {
      throw errors.invalidRequest(`Invalid model: ${model}. Available models: [${deps.models.map((m) => `'${m}'`).join(', ')}]`,
        { available_models: [...deps.models] });
    }
    const reset = await analyses.withTransaction(async (tx) => {
      const row = await analyses.resetForRetry(analysis.id, model, tx);
      if (row) {
        await deps.queue.send('analyse-session', { analysisId: row.id }, { tx: transactionExecutor(tx) });
      }
      return row;
    });
    if (!reset) throw errors.conflict(`Only a failed or completed analysis can be retried (this one is ${analysis.status})`);
    await store.deletePrefix(objectKeys.resultsPrefix(analysis.userId, analysis.sessionId));
    return { message: 'Analysis queued again', analysis: toSummary(reset) };
  });

  const withStats = async (user: User) => {
    const stats = await analyses.statsForUser(user.id, weekStart(new Date()));
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
    schema: { tags: ['studio: users'], summary: 'Me, with my analysis statistics', response: { ...studioErrors(401) } },
  }, async (request) => ({ user: await withStats(request.auth!.user) }));

  app.get('/api/users', {
    preHandler: guards.requireAdmin,
    schema: {
      tags: ['studio: admin'], summary: 'Every user (admin)',
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })), offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })) }),
      response: { ...studioErrors(401, 403) },
    },
  }, async (request) => {
    const users = await deps.users.listUsers({ limit: request.query.limit ?? 50, offset: request.query.offset ?? 0 });
    return { users: await Promise.all(users.map(withStats)) };
  });

  /** Admins see anyone; others only themselves, and anyone else is "not found", as if absent. */
  async function visibleUser(id: string, asker: User): Promise<User> {
    const user = UUID.test(id) && (asker.isAdmin || asker.id === id) ? await deps.users.findUserById(id) : null;
    if (!user) throw errors.userNotFound();
    return user;
  }

  app.get('/api/user/:id', {
    preHandler: guards.requireUser,
    schema: { tags: ['studio: admin'], summary: 'One user (admin, or yourself)', params: IdParams, response: { ...studioErrors(401, 404) } },
  }, async (request) => ({ user: await withStats(await visibleUser(request.params.id, request.auth!.user)) }));

  app.get('/api/analysis/list/:user_id', {
    preHandler: guards.requireUser,
    schema: {
      tags: ['studio: admin'], summary: "A user's analyses (admin, or yourself)", params: Type.Object({ user_id: Type.String() }), querystring: ListQuery,
      response: { 200: ListResponse, ...studioErrors(400, 401, 404) },
    },
  }, async (request) => {
    const user = await visibleUser(request.params.user_id, request.auth!.user);
    const page = await analyses.listByUser(user.id, { limit: request.query.limit ?? 20, cursor: request.query.cursor });
    return { analyses: page.analyses.map(toSummary), next_cursor: page.nextCursor };
  });
}
