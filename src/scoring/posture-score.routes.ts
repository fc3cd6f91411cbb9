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
  height_cm: Type.Optional(Type.Number({
    minimum: 50, maximum: 250,
    description: "The subject's height in cm: cm values are then scaled by it instead of the seed's fixed factor",
  })),
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
  // The whole ScaleSource union, though this route only answers seed_default or subject_height.
  scale: Type.Union([
    Type.Object({ source: Type.Literal('seed_default'), cm_per_px: Type.Number(), note: Type.String() }),
    Type.Object({ source: Type.Literal('subject_height'), cm_per_px: Type.Number(), height_cm: Type.Number(), stature_px: Type.Number() }),
    Type.Object({ source: Type.Literal('calibration'), cm_per_px: Type.Number() }),
    Type.Object({
      source: Type.Literal('estimated'), cm_per_px: Type.Number(), assumed_height_cm: Type.Number(), stature_px: Type.Number(), note: Type.String(),
    }),
    Type.Null(),
  ], { description: "The scale of every cm value: the seed's fixed 100 cm = 644 px unless height_cm was sent; null when "
    + 'height_cm was sent but no trunk or leg segment is visible (cm metrics are then omitted)' }),
  units: Type.Record(Type.String(), Type.Union([Type.Literal('°'), Type.Literal('cm')])),
  warnings: Type.Array(Type.String()),
});

/**
 * Scores keypoints a client found with its own pose model: the same per-view result an analysed image gets,
 * without sending any picture. By default centimetres use the seed's fixed factor (100 cm = 644 px), the one
 * place it is kept: existing clients of this endpoint compare against seed-exact numbers. A client that sends
 * `height_cm` gets real units instead. `scale` says which in every answer.
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
    const { keypoints, view, profile, height_cm: heightCm } = request.body;
    if (keypoints === undefined || keypoints === null) throw errors.missingFields('Missing keypoints');
    if (profile !== undefined && !listProfiles().includes(profile)) {
      throw errors.invalidRequest(`Unknown profile: ${profile}. Available profiles: ${listProfiles().join(', ')}`);
    }
    try {
      const scale = heightCm === undefined ? { source: 'seed_default' as const } : { source: 'subject_height' as const, heightCm };
      return evaluatePose(keypoints, { view: view as never, profile, scale });
    } catch (error) {
      if (isPostureInputError(error)) throw errors.invalidRequest(error.message);
      throw error;
    }
  });
}
