import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AuthConfig } from '../config/config.ts';
import { errors } from '../errors/app-error.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import { liveErrors } from '../http/common.schemas.ts';
import type { AuthService } from './auth.service.ts';
import { LiveMeBody, LiveSignupBody, LoginBody } from './auth.schemas.ts';

export interface LiveAuthRoutesDeps {
  auth: AuthService;
  guards: AuthGuards;
  config: AuthConfig;
}

const tags = ['live: accounts'];

/** Family B account routes (`/api/auth/.../`, trailing slash), shaped like the live service they replace. */
export async function liveAuthRoutes(fastify: FastifyInstance, deps: LiveAuthRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, guards, config } = deps;

  app.post('/api/auth/signup/', {
    schema: {
      tags, summary: 'Create an account (live)', body: LiveSignupBody,
      response: { 201: Type.Object({ id: Type.String(), email: Type.String() }), ...liveErrors(400, 429) },
    },
  }, async (request, reply) => {
    const { name, email, password, settings } = request.body;
    const missing = (['name', 'email', 'password'] as const).filter((field) => !request.body[field]);
    if (missing.length > 0) throw errors.missingFields(`Missing required fields: ${missing.join(', ')}`);
    const user = await auth.register({ name: name!, email: email!, password: password!, settings }, request.ip);
    return reply.status(201).send({ id: user.id, email: user.email });
  });

  app.post('/api/auth/login/', {
    schema: {
      tags, summary: 'Log in (live): returns a bearer token', body: LoginBody,
      response: { 200: Type.Object({ token: Type.String() }), ...liveErrors(400, 401, 429) },
    },
  }, async (request) => {
    const { email, password } = request.body;
    if (!email || !password) throw errors.missingFields('Missing email or password');
    const { token } = await auth.login(
      { email, password }, request.ip, { family: 'live', ttlSeconds: config.liveTokenTtlSeconds },
    );
    return { token: token.token };
  });

  app.get('/api/auth/me/', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'The current user (live)', response: { 200: LiveMeBody, ...liveErrors(401) } },
  }, async (request) => {
    const { user } = request.auth!;
    return {
      id: user.id, email: user.email, name: user.name, created_at: user.createdAt.toISOString(), settings: user.settings,
    };
  });
}
