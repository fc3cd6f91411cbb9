import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { Type } from 'typebox';
import type { AuthGuards } from '../http/authenticate.ts';
import { emptyBodyAsObject } from '../http/empty-body.ts';
import { liveErrors } from '../http/common.schemas.ts';
import type { LiveSessionsService } from './live-sessions.service.ts';
import { refuseRawMedia } from './raw-media.ts';
import {
  EndSessionBody, EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX, EventsQuery, EventsStored, LiveSessionBody, PostureEventBatch, PostureEventBody, SessionEnded,
  SessionIdParams, SessionsQuery, SessionStarted, SessionState, StartSessionBody, toLiveSessionBody,
  toPostureEventBody, toSessionSummaryBody,
} from './live.schemas.ts';

export interface LiveSessionsRoutesDeps {
  sessions: LiveSessionsService;
  guards: AuthGuards;
  /** Budget of anonymous session starts (per client IP). */
  startLimit: preHandlerAsyncHookHandler;
  /** The event route's whole body; Fastify refuses a larger one (413) before reading it all or parsing it. */
  eventBodyMaxBytes: number;
}

const tags = ['live: sessions'];

/** Family B live-session routes (SPEC 7), trailing slashes as the replaced service had them. */
export async function liveSessionsRoutes(fastify: FastifyInstance, deps: LiveSessionsRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions, guards } = deps;

  // The privacy rule for every route here that takes a body (start, event, pause, resume, end): see refuseRawMedia.
  app.addHook('preValidation', refuseRawMedia);

  app.post('/api/sessions/start/', {
    preHandler: [guards.optionalUser, deps.startLimit],
    preValidation: emptyBodyAsObject,
    schema: {
      tags, summary: 'Start a live session (a token makes it yours; without one it is anonymous)',
      body: StartSessionBody, response: { 201: SessionStarted, ...liveErrors(400, 401, 429) },
    },
  }, async (request, reply) => {
    const session = await sessions.start(request.auth?.user.id ?? null, request.body.device_id ?? null, request.ip);
    return reply.status(201).send({ session_id: session.id });
  });

  app.post('/api/sessions/:id/event/', {
    // parseEventBatch validates without coercion (`"12"` is not an angle) and names the bad event of a list; the
    // body schema below only documents the event.
    validatorCompiler: () => () => true,
    bodyLimit: deps.eventBodyMaxBytes,
    schema: {
      tags, summary: 'Post one posture event or a list (stored all or none)',
      description: 'Keypoints only: a key named image/frame or a string over 5000 characters is refused. At most '
        + '10 events per session in any second (a list counts each event). Size ceilings (413), metadata bounds '
        + '(400) and the daily event ceiling (429): docs/live-api.md, "Limits".',
      params: SessionIdParams, body: PostureEventBatch,
      response: { 201: EventsStored, ...liveErrors(400, 404, 409, 413, 429) },
    },
  }, async (request, reply) => {
    const stored = await sessions.postEvents(request.params.id, request.body as unknown);
    return reply.status(201).send({ stored_events: stored });
  });

  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/api/sessions/:id/${action}/`, {
      schema: {
        tags, summary: paused ? 'Pause a live session (events are refused until resumed)' : 'Resume a paused session',
        params: SessionIdParams, response: { 200: SessionState, ...liveErrors(404, 409) },
      },
    }, async (request) => {
      const session = await sessions.setPaused(request.params.id, paused);
      return { session_id: session.id, is_paused: session.isPaused };
    });
  }

  app.post('/api/sessions/:id/end/', {
    preValidation: emptyBodyAsObject,
    schema: {
      tags, summary: 'End a live session; omitted totals are computed from its events',
      params: SessionIdParams, body: EndSessionBody, response: { 200: SessionEnded, ...liveErrors(400, 404) },
    },
  }, async (request) => {
    const { total_seconds, good_seconds, mild_seconds, bad_seconds } = request.body;
    const { session, summary } = await sessions.end(request.params.id, {
      totalSeconds: total_seconds, goodSeconds: good_seconds, mildSeconds: mild_seconds, badSeconds: bad_seconds,
    });
    return { session_id: session.id, ended: true as const, summary: toSessionSummaryBody(summary) };
  });

  app.get('/api/sessions/:id/events/', {
    preHandler: guards.optionalUser,
    schema: {
      tags, summary: "A session's events, oldest first (owner's token; anonymous sessions: the id)",
      description: `One page of at most \`limit\` events (default ${EVENTS_PAGE_DEFAULT}, at most ${EVENTS_PAGE_MAX}). `
        + 'A full page carries `X-Next-After-Id`: pass it as `after_id` for the next page; no header, no more events.',
      params: SessionIdParams, querystring: EventsQuery,
      response: {
        200: { ...Type.Array(PostureEventBody), headers: { 'X-Next-After-Id': { type: 'string' } } },
        ...liveErrors(401, 404),
      },
    },
  }, async (request, reply) => {
    const viewer = request.auth ? { userId: request.auth.user.id } : null;
    const limit = request.query.limit ?? EVENTS_PAGE_DEFAULT;
    const events = await sessions.listEvents(request.params.id, viewer, { afterId: request.query.after_id ?? 0, limit });
    // A full page may have more after it; a short one is the end (one extra empty request at most, no count query).
    if (events.length === limit) reply.header('X-Next-After-Id', String(events.at(-1)!.id));
    return events.map(toPostureEventBody);
  });

  app.get('/api/users/me/sessions/', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: "The current user's live sessions, newest first",
      querystring: SessionsQuery, response: { 200: Type.Array(LiveSessionBody), ...liveErrors(401) },
    },
  }, async (request) => {
    const list = await sessions.listUserSessions(request.auth!.user.id, {
      limit: request.query.limit ?? 100, offset: request.query.offset ?? 0,
    });
    return list.map(toLiveSessionBody);
  });
}
