import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuthService } from './auth/auth.service.ts';
import { UserBody } from './auth/auth.schemas.ts';
import { liveAuthRoutes } from './auth/live-auth.routes.ts';
import { argon2Hasher, type PasswordHasher } from './auth/password-hasher.ts';
import { createRevocationsRepository } from './auth/revocations.repository.ts';
import { studioAuthRoutes } from './auth/studio-auth.routes.ts';
import { TokenService } from './auth/token.service.ts';
import type { Config } from './config/config.ts';
import { createAuthGuards } from './http/authenticate.ts';
import { LiveError, StudioError } from './http/common.schemas.ts';
import { installErrorHandler } from './http/error-handler.ts';
import { healthRoutes, type ReadinessChecks } from './http/health.routes.ts';
import { createMetricsRegistry, installRequestMetrics } from './http/metrics.ts';
import type { DatabaseHandle } from './infra/db/database.ts';
import type { RateLimiter } from './infra/rate-limit/rate-limiter.ts';
import { createUsersRepository } from './users/users.repository.ts';

export interface AppDeps {
  config: Config;
  /** The resolved signing secret (config value, or the generated one kept under the data folder in development). */
  jwtSecret: string;
  database: DatabaseHandle;
  rateLimiter: RateLimiter;
  hasher?: PasswordHasher;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The composition root: builds services from ports and registers every route, without listening. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: false } },
  });
  app.decorateRequest('auth', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const auth = new AuthService({
    users: createUsersRepository(database.db),
    tokens: new TokenService({
      secret: deps.jwtSecret,
      revocations: createRevocationsRepository(database.db),
      wsTokenTtlSeconds: config.auth.wsTokenTtlSeconds,
    }),
    hasher: deps.hasher ?? argon2Hasher,
    limiter: deps.rateLimiter,
    limits: config.auth,
  });
  const guards = createAuthGuards(auth, config.auth);
  const checks: ReadinessChecks = { database: () => database.ping() };

  installErrorHandler(app);
  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, { contentSecurityPolicy: false });
  if (config.auth.allowedOrigins.length > 0) {
    await app.register(fastifyCors, { origin: [...config.auth.allowedOrigins], credentials: true });
  }
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Postura API',
        version: '1',
        description: 'Posture analysis: studio (media analyses) and live (keypoint sessions) client families.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'access_token_cookie' },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.addSchema(StudioError);
  app.addSchema(LiveError);
  app.addSchema(UserBody);
  installRequestMetrics(app, createMetricsRegistry());

  await app.register(healthRoutes, { checks });
  await app.register(studioAuthRoutes, { auth, guards, config: config.auth, production: config.env === 'production' });
  await app.register(liveAuthRoutes, { auth, guards, config: config.auth });

  return app;
}
