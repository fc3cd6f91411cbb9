import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AuthConfig } from '../config/config.ts';
import { errors, isAppError } from '../errors/app-error.ts';
import {
  clearAccessCookie, cookiePolicy, setAccessCookie, type AuthGuards,
} from '../http/authenticate.ts';
import { studioErrors } from '../http/common.schemas.ts';
import type { AuthService } from './auth.service.ts';
import { LoginBody, StudioRegisterBody, toUserBody } from './auth.schemas.ts';

export interface StudioAuthRoutesDeps {
  auth: AuthService;
  guards: AuthGuards;
  config: AuthConfig;
  production: boolean;
}

const tags = ['studio: accounts'];
const UserRef = Type.Ref('User');

/** Family A account routes (`/auth/*`), shaped like the studio service they replace. */
export async function studioAuthRoutes(fastify: FastifyInstance, deps: StudioAuthRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, guards, config } = deps;

  app.post('/auth/register', {
    schema: {
      tags, summary: 'Create an account (studio)', body: StudioRegisterBody,
      response: {
        201: Type.Object({ message: Type.String(), name: Type.String(), user: UserRef, token: Type.String() }),
        ...studioErrors(400, 409, 429),
      },
    },
  }, async (request, reply) => {
    const { email, name, password } = request.body;
    if (!email || !name || !password) throw errors.missingFields();
    const user = await auth.register({ email, name, password }, request.ip);
    const token = await auth.issueAccessToken(user.id, config.studioTokenTtlSeconds, 'studio');
    return reply.status(201).send({
      message: 'User registered successfully', name: user.name, user: toUserBody(user), token: token.token,
    });
  });

  app.post('/auth/login', {
    schema: {
      tags, summary: 'Log in; sets the access token cookie too', body: LoginBody,
      response: {
        200: Type.Object({
          message: Type.String(), user: UserRef, token: Type.String(), access_token: Type.String(),
        }),
        ...studioErrors(400, 401, 429),
      },
    },
  }, async (request, reply) => {
    const { email, password } = request.body;
    if (!email || !password) throw errors.missingFields('Missing email or password');
    const { user, token } = await auth.login(
      { email, password }, request.ip, { family: 'studio', ttlSeconds: config.studioTokenTtlSeconds },
    );
    setAccessCookie(reply, token, cookiePolicy(request, config, deps.production));
    return { message: 'Login successful', user: toUserBody(user), token: token.token, access_token: token.token };
  });

  app.post('/auth/logout', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'Log out: revokes the token and clears the cookie',
      response: { 200: Type.Object({ message: Type.String() }), ...studioErrors(401, 403) },
    },
  }, async (request, reply) => {
    await auth.logout(request.auth!.token);
    clearAccessCookie(reply, cookiePolicy(request, config, deps.production));
    return { message: 'Logged out successfully' };
  });

  app.get('/auth/profile', {
    preHandler: guards.requireUser,
    schema: { tags, summary: 'The current user', response: { 200: Type.Object({ user: UserRef }), ...studioErrors(401) } },
  }, async (request) => ({ user: toUserBody(request.auth!.user) }));

  app.get('/auth/validate-session', {
    schema: {
      tags, summary: 'Whether the presented token is a live session',
      response: {
        200: Type.Object({ logged_in: Type.Literal(true), user: UserRef }),
        401: Type.Object({
          logged_in: Type.Literal(false), error: Type.String(), message: Type.String(), code: Type.String(),
        }),
      },
    },
  }, async (request, reply) => {
    try {
      await guards.requireUser(request);
      return { logged_in: true as const, user: toUserBody(request.auth!.user) };
    } catch (error) {
      if (!isAppError(error) || !['unauthenticated', 'invalid_token'].includes(error.code)) throw error;
      return reply.status(401).send({
        logged_in: false as const, error: error.message, message: error.message, code: error.code,
      });
    }
  });

  app.get('/auth/ws-token', {
    preHandler: guards.requireUser,
    schema: {
      tags, summary: 'A single-use token for WebSocket endpoints, valid 5 minutes',
      response: {
        200: Type.Object({ ws_token: Type.String(), expires_in: Type.Integer(), message: Type.String() }),
        ...studioErrors(401),
      },
    },
  }, async (request) => {
    const { user, token } = request.auth!;
    const issued = await auth.issueWsToken(user.id, token.jti, token.expiresAt);
    return {
      ws_token: issued.token,
      expires_in: config.wsTokenTtlSeconds,
      message: 'WebSocket token generated; it works once, within 5 minutes',
    };
  });

  // The studio web client offers to link a messaging bot (an optional add-on of the service it was written for).
  // Postura has none; a clear 501 lets the client show why instead of failing on a 404.
  app.get('/auth/gen-tele-link', {
    preHandler: guards.requireUser,
    schema: {
      tags,
      summary: 'Messaging bot link: not available in Postura',
      description: 'The studio web client asks for a link to a messaging bot, an optional feature Postura does not '
        + 'provide: always 501 with a studio error body (`code: not_implemented`) for a signed-in user, 401 otherwise.',
      response: studioErrors(401, 501),
    },
  }, async () => {
    throw errors.notImplemented('Linking a messaging bot is not available in Postura');
  });
}
