import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AuthGuards } from '../http/authenticate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import { emptyBodyAsObject } from '../http/empty-body.ts';
import type { UserDirectory } from '../users/users.routes.ts';
import type { Analysis } from './analyses.repository.ts';
import type { AnalysesService, ListedAnalysis } from './analyses.service.ts';

export interface AnalysisRoutesDeps {
  service: AnalysesService;
  users: UserDirectory;
  guards: AuthGuards;
  /** `object`: `{analyses, next_cursor}` as documented; `array`: the bare list the studio web client reads. */
  listShape: 'object' | 'array';
}

const tags = ['studio: analyses'];
const IdParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 20 (100 when the list is a bare array)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(type: T) => Type.Union([type, Type.Null()]);
const AnalysisSummary = Type.Object({
  id: Type.String(), user_id: Type.String(), session_id: Type.String(), model_name: Type.String(), profile: Type.String(),
  status: Type.String(), progress: Type.Number({ description: '0..1' }), error: nullable(Type.String()),
  overall_score: nullable(Type.Integer({ description: '0..100' })), created_at: Type.String(),
  started_at: nullable(Type.String()), finished_at: nullable(Type.String()),
});
const UrlMap = Type.Record(Type.String(), Type.String());
const ListedItem = Type.Object({
  ...AnalysisSummary.properties,
  filename: nullable(Type.String({ description: 'The name the first file was uploaded under' })),
  feedback: nullable(Type.String({ description: 'One-line summary of the result' })),
  uploads: Type.Record(Type.String(), Type.String(), { description: 'View → signed URL of the uploaded file' }),
});
const ListObject = Type.Object({ analyses: Type.Array(ListedItem), next_cursor: nullable(Type.String()) });
const ListArray = Type.Array(ListedItem);
const DetailResponse = Type.Object({
  ...ListedItem.properties,
  posture_result: nullable(Type.String()),
  analysis_json_urls: UrlMap, overlay_urls: UrlMap,
  overlay_video_urls: Type.Record(Type.String(), Type.String(), {
    description: 'Video views only: view → signed URL of the overlay video (H.264 MP4: the analysed frames with the skeleton and angles)',
  }),
  chart_urls: Type.Record(Type.String(), Type.String(), { description: 'Video views only: view → signed URL of the angles-over-time chart (SVG)' }),
  feedback_json_url: nullable(Type.String()),
  report_url: nullable(Type.String()),
  subject: Type.Object({
    name: nullable(Type.String()), birth_date: nullable(Type.String({ description: 'YYYY-MM-DD' })),
    age: nullable(Type.Integer({ description: 'At the assessment: from birth_date when given, else as given' })),
    height_cm: nullable(Type.Number()), notes: nullable(Type.String()),
  }, { description: 'The person assessed, as given at upload (not the account holder); null fields were not given' }),
});
const Insight = Type.Object({ type: Type.String(), title: Type.String(), content: Type.String() });
const SummaryResponse = Type.Object({
  status: Type.Literal('completed'), model_name: Type.String(), date_generated: Type.String(),
  weeks: Type.Array(Type.Object({ week_start: Type.String(), analyses: Type.Integer(), average_overall_score: nullable(Type.Number({ description: '0..100' })) })),
  metrics: Type.Record(Type.String(), Type.Object({
    current_week: nullable(Type.Number()), previous_weeks: Type.Array(nullable(Type.Number())), trend: nullable(Type.Number()),
  }), { description: 'Metric → its mean percent score (0..100) this week and in each earlier week' }),
  worst_metric: nullable(Type.Object({ name: Type.String(), average_percent: Type.Number() })),
  best_metric: nullable(Type.Object({ name: Type.String(), average_percent: Type.Number() })),
  insights: Type.Array(Insight),
}, { description: 'Rule-based weekly insights, computed from the stored results each time they are asked for' });

function toSummary(a: Analysis) {
  return {
    id: a.id, user_id: a.userId, session_id: a.sessionId, model_name: a.modelName, profile: a.profile, status: a.status,
    progress: a.progress, error: a.error, overall_score: a.overallScore, created_at: a.createdAt.toISOString(),
    started_at: a.startedAt?.toISOString() ?? null, finished_at: a.finishedAt?.toISOString() ?? null,
  };
}

function toListed(item: ListedAnalysis) {
  return { ...toSummary(item.analysis), filename: item.filename, feedback: item.feedback, uploads: item.uploads };
}

/** Studio analysis routes of SPEC section 3. Another user's analysis is answered 404, as if it did not exist. */
export async function analysisRoutes(fastify: FastifyInstance, deps: AnalysisRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { service, guards } = deps;
  const bare = deps.listShape === 'array';
  const listSchema = bare ? ListArray : ListObject;

  /** One page of a user's analyses in the configured shape; a bare array carries the next cursor in a header. */
  async function listPage(userId: string, query: { limit?: number | undefined; cursor?: string | undefined }, reply: { header: (k: string, v: string) => unknown }) {
    const page = await service.list(userId, { limit: query.limit ?? (bare ? 100 : 20), cursor: query.cursor });
    const analyses = page.items.map(toListed);
    if (!bare) return { analyses, next_cursor: page.nextCursor };
    if (page.nextCursor) reply.header('X-Next-Cursor', page.nextCursor);
    return analyses;
  }

  app.get('/api/analysis/list', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'My analyses, newest first',
      description: 'Documented shape `{analyses, next_cursor}`; with ANALYSIS_LIST_SHAPE=array (for the studio web client) a bare array, '
        + 'the next page\'s cursor in the X-Next-Cursor header.',
      querystring: ListQuery, response: { 200: listSchema, ...studioErrors(400, 401) },
    },
  }, async (request, reply) => listPage(request.auth!.user.id, request.query, reply));

  app.get('/api/analysis/list/:user_id', {
    preHandler: guards.requireUser,
    schema: {
      tags: ['studio: admin'], summary: "A user's analyses (admin, or yourself)", params: Type.Object({ user_id: Type.String() }), querystring: ListQuery,
      response: { 200: listSchema, ...studioErrors(400, 401, 404) },
    },
  }, async (request, reply) => {
    const user = await deps.users.visibleUser(request.params.user_id, request.auth!.user);
    return listPage(user.id, request.query, reply);
  });

  app.get('/api/analysis/summary', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'Weekly trends and insights over my analyses', response: { 200: SummaryResponse, ...studioErrors(401) } },
  }, async (request) => service.summary(request.auth!.user.id));

  app.post('/api/analysis/summary/retry', {
    preHandler: guards.requireUser,
    preValidation: emptyBodyAsObject,
    schema: {
      tags, summary: 'Generate my weekly insights again',
      description: 'Insights are computed from the stored results each time, so this answers the same as GET /api/analysis/summary, freshly made.',
      response: { 200: SummaryResponse, ...studioErrors(401) },
    },
  }, async (request) => service.summary(request.auth!.user.id));

  app.get('/api/analysis/summary/:user_id', {
    preHandler: guards.requireUser,
    schema: {
      tags: ['studio: admin'], summary: "A user's weekly insights (admin, or yourself)", params: Type.Object({ user_id: Type.String() }),
      response: { 200: SummaryResponse, ...studioErrors(401, 404) },
    },
  }, async (request) => service.summary((await deps.users.visibleUser(request.params.user_id, request.auth!.user)).id));

  app.get('/api/analysis/:id', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'One analysis with signed URLs of its media and results', params: IdParams, response: { 200: DetailResponse, ...studioErrors(401, 404) } },
  }, async (request) => {
    const detail = await service.detail(await service.visible(request.params.id, request.auth!.user));
    return {
      ...toListed(detail),
      posture_result: detail.postureResult,
      analysis_json_urls: detail.analysisJsonUrls,
      overlay_urls: detail.overlayUrls,
      overlay_video_urls: detail.overlayVideoUrls,
      chart_urls: detail.chartUrls,
      feedback_json_url: detail.feedbackJsonUrl,
      report_url: detail.reportUrl,
      subject: { name: detail.subject.name, birth_date: detail.subject.birthDate, age: detail.subject.age,
        height_cm: detail.subject.heightCm, notes: detail.subject.notes },
    };
  });

  app.get('/api/analysis/report/:id', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'Signed URL of the PDF report', params: IdParams, response: { 200: Type.Object({ url: Type.String() }), ...studioErrors(401, 404, 409) } },
  }, async (request) => ({ url: await service.reportUrl(await service.visible(request.params.id, request.auth!.user)) }));

  app.get('/api/analysis/:id/frames.csv', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Per-frame series of one view as CSV', params: IdParams,
      querystring: Type.Object({ view: Type.String({ maxLength: 10 }) }), produces: ['text/csv'],
      response: { ...studioErrors(400, 401, 404, 409) },
    },
  }, async (request, reply) => {
    const analysis = await service.visible(request.params.id, request.auth!.user);
    const { filename, csv } = await service.framesCsv(analysis, request.query.view);
    return reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${filename}"`)
      .send(csv);
  });

  for (const [format, summary] of [
    ['trc', 'Keypoint trajectories of one view as an OpenSim .trc file (as Sports2D writes it)'],
    ['mot', 'Angles of one view as an OpenSim .mot file (as Sports2D writes it)'],
  ] as const) {
    app.get(`/api/analysis/:id/frames.${format}`, {
      preHandler: guards.requireUser,
      schema: {
        tags, summary, params: IdParams,
        querystring: Type.Object({ view: Type.String({ maxLength: 10 }) }), produces: ['text/plain'],
        response: { ...studioErrors(400, 401, 404, 409) },
      },
    }, async (request, reply) => {
      const analysis = await service.visible(request.params.id, request.auth!.user);
      const { filename, text } = await service.framesOpenSim(analysis, request.query.view, format);
      return reply
        .header('Content-Type', 'text/plain; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${filename}"`)
        .send(text);
    });
  }

  app.delete('/api/analysis/:id', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'Delete an analysis with its media and results', params: IdParams, response: { 200: Type.Object({ message: Type.String(), id: Type.String() }), ...studioErrors(401, 404) } },
  }, async (request) => {
    const analysis = await service.visible(request.params.id, request.auth!.user);
    await service.delete(analysis);
    return { message: 'Analysis deleted successfully', id: analysis.id };
  });

  app.post('/api/analysis/retry/:id', {
    preHandler: guards.requireUser,
    preValidation: emptyBodyAsObject,
    schema: {
      tags, summary: 'Run a failed or completed analysis again, optionally with another model', params: IdParams,
      body: Type.Optional(Type.Object({ model: Type.Optional(Type.String()) })),
      response: { 200: Type.Object({ message: Type.String(), analysis: AnalysisSummary }), ...studioErrors(400, 401, 404, 409, 429) },
    },
  }, async (request) => {
    const analysis = await service.visible(request.params.id, request.auth!.user);
    return { message: 'Analysis queued again', analysis: toSummary(await service.retry(analysis, request.body?.model)) };
  });
}
