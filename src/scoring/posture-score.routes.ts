import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../errors/app-error.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import { evaluatePose, isPostureInputError, listProfiles } from '../posture/index.ts';

const ScoreBody = Type.Object({
  keypoints: Type.Unknown({ description: 'COCO-17 or COCO-WholeBody-133 list of [x, y, score], or an object keyed by COCO name' }),
  view: Type.Optional(Type.Union(['front', 'left', 'right', 'back', 'auto'].map((v) => Type.Literal(v)))),
  profile: Type.Optional(Type.String()),
});

const ViewResult = Type.Object({
  view: Type.String(),
  detected_view: Type.String(),
  profile: Type.String(),
  score: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
  raw_scores_percent: Type.Record(Type.String(), Type.Number()),
  measurements: Type.Record(Type.String(), Type.Number()),
  overall_posture_score: Type.Union([Type.Number(), Type.Null()]),
  omitted_metrics: Type.Array(Type.String()),
  proxies: Type.Record(Type.String(), Type.String()),
  posture_mode: Type.Optional(Type.String()),
  warnings: Type.Array(Type.String()),
});

/**
 * Scores keypoints a client found with its own pose model: the same per-view result an analysed image gets,
 * without sending any picture.
 */
export async function postureScoreRoutes(fastify: FastifyInstance, deps: { guards: AuthGuards }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/api/posture/score', {
    preHandler: deps.guards.requireUser,
    schema: {
      tags: ['studio: analyses'],
      summary: 'Score keypoints with a posture profile',
      body: ScoreBody,
      response: { 200: ViewResult, ...studioErrors(400, 401) },
    },
  }, async (request) => {
    const { keypoints, view, profile } = request.body;
    if (keypoints === undefined || keypoints === null) throw errors.missingFields('Missing keypoints');
    if (profile !== undefined && !listProfiles().includes(profile)) {
      throw errors.invalidRequest(`Unknown profile: ${profile}. Available profiles: ${listProfiles().join(', ')}`);
    }
    try {
      return evaluatePose(keypoints, { view: view as never, profile });
    } catch (error) {
      if (isPostureInputError(error)) throw errors.invalidRequest(error.message);
      throw error;
    }
  });
}
