import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { AuthService } from './auth/auth.service.ts';
import { UserBody } from './auth/auth.schemas.ts';
import { liveAuthRoutes } from './auth/live-auth.routes.ts';
import { argon2Hasher, type PasswordHasher } from './auth/password-hasher.ts';
import { RevocationCache } from './auth/revocation-cache.ts';
import { createRevocationsRepository } from './auth/revocations.repository.ts';
import { UserCache } from './auth/user-cache.ts';
import { studioAuthRoutes } from './auth/studio-auth.routes.ts';
import { TokenService } from './auth/token.service.ts';
import type { Config } from './config/config.ts';
import { createAuthGuards } from './http/authenticate.ts';
import { installBodyDepthLimit } from './http/body-depth.ts';
import { LiveError, StudioError } from './http/common.schemas.ts';
import { handleFrameworkError, installErrorHandler } from './http/error-handler.ts';
import { healthRoutes, type ReadinessChecks } from './http/health.routes.ts';
import { SocketGuard } from './http/guarded-socket.ts';
import { installJsonBodyParser } from './http/json-body.ts';
import { redactingDestination } from './http/log-redaction.ts';
import { installBufferedBodyDeadline, serverTimeoutOptions } from './http/server-timeouts.ts';
import { createMetricsRegistry, installRequestMetrics } from './http/metrics.ts';
import type { DatabaseHandle } from './infra/db/database.ts';
import { MemoryPubSub } from './infra/pubsub/memory-pubsub.ts';
import type { PubSub } from './infra/pubsub/pubsub.ts';
import type { RateLimiter } from './infra/rate-limit/rate-limiter.ts';
import { postureScoreRoutes } from './scoring/posture-score.routes.ts';
import { studioPipeline } from './studio.plugin.ts';
import type { ObjectStore } from './infra/object-store/object-store.ts';
import type { UrlSigner } from './infra/object-store/url-signer.ts';
import type { JobQueue } from './infra/queue/job-queue.ts';
import { DEFAULT_PUBLIC_MODELS } from './pose/model-registry.ts';
import type { PoseEstimator } from './pose/pose-estimator.ts';
import { liveApi } from './live/live.routes.ts';
import { createUsersRepository } from './users/users.repository.ts';
import { webAppRoutes } from './web/web-app.plugin.ts';

export interface AppDeps {
  config: Config;
  /** The resolved signing secret (config value, or the generated one kept under the data folder in development). */
  jwtSecret: string;
  database: DatabaseHandle;
  rateLimiter: RateLimiter;
  hasher?: PasswordHasher;
  /** Fan-out of live events across API processes; default: in this process only (owned and closed by the app). */
  pubsub?: PubSub;
  store: ObjectStore;
  /** The disk store's URL signer (its files are served by this API); null with S3. */
  signer: UrlSigner | null;
  queue: JobQueue;
  /** Runs analyses in this process when given; an API-only process leaves it out. */
  estimator?: PoseEstimator;
  /** Public model names (default: the registry's public models). */
  models?: readonly string[];
  /** Where log lines go (default: stdout); every line is redacted of URL credentials on the way (tests capture here). */
  logDestination?: DestinationStream;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The composition root: builds services from ports and registers every route, without listening. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      stream: redactingDestination(deps.logDestination),
    },
    ...serverTimeoutOptions(config.http),
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: false } },
    frameworkErrors: handleFrameworkError,
  });
  app.decorateRequest('auth', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const pubsub = deps.pubsub ?? new MemoryPubSub();
  const sockets = new SocketGuard({
    limits: config.sockets, pubsub, onError: (error) => app.log.warn({ err: error }, 'revocation not published'),
  });
  // Authenticated requests check revocations in memory, kept current through the pub/sub.
  const revocations = new RevocationCache({
    repository: createRevocationsRepository(database.db), pubsub,
    onError: (error) => app.log.warn({ err: error }, 'revocation checks fell back to the database'),
    maxTokenLifetimeMs: Math.max(config.auth.studioTokenTtlSeconds, config.auth.liveTokenTtlSeconds) * 1000,
  });
  const users = new UserCache({
    repository: createUsersRepository(database.db), pubsub, ttlMs: config.auth.userCacheSeconds * 1000,
    onError: (error) => app.log.warn({ err: error }, 'user lookups fell back to the database'),
  });
  const auth = new AuthService({
    users,
    tokens: new TokenService({
      secret: deps.jwtSecret,
      revocations,
      wsTokenTtlSeconds: config.auth.wsTokenTtlSeconds,
    }),
    hasher: deps.hasher ?? argon2Hasher,
    limiter: deps.rateLimiter,
    limits: config.auth,
    onRevoked: (token) => sockets.announceRevoked(token.jti),
  });
  const guards = createAuthGuards(auth, config.auth);
  const checks: ReadinessChecks = { database: () => database.ping() };

  installErrorHandler(app);
  installBodyDepthLimit(app);
  installBufferedBodyDeadline(app, config.http.bodyTimeoutMs);
  installJsonBodyParser(app);
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
  installRequestMetrics(app, createMetricsRegistry(), {
    metrics: config.metrics, host: config.host, http: config.http, production: config.env === 'production',
  });

  await app.register(healthRoutes, { checks });
  await app.register(studioAuthRoutes, { auth, guards, config: config.auth, production: config.env === 'production' });
  await app.register(liveAuthRoutes, { auth, guards, config: config.auth });
  await app.register(postureScoreRoutes, { guards });

  // One WebSocket plugin for the whole app: other features may have registered it already. On shutdown its
  // clients hear 1001 "going away" (not a bare close), so they know to reconnect, to another process if need be.
  if (!app.hasDecorator('websocketServer')) {
    await app.register(fastifyWebsocket, {
      options: { maxPayload: 1024 * 1024 },
      preClose(done) {
        for (const client of this.websocketServer.clients) client.close(1001, 'Server shutting down');
        this.websocketServer.close(() => done());
      },
    });
  }
  await sockets.start();
  await revocations.start();
  await users.start();
  app.addHook('onClose', () => sockets.stop());
  app.addHook('onClose', () => revocations.stop());
  app.addHook('onClose', () => users.stop());
  if (!deps.pubsub) app.addHook('onClose', () => pubsub.close());
  await app.register(studioPipeline, {
    config, database, store: deps.store, signer: deps.signer, queue: deps.queue, pubsub, auth, guards, checks, sockets,
    models: deps.models ?? DEFAULT_PUBLIC_MODELS, estimator: deps.estimator, rateLimiter: deps.rateLimiter,
  });
  await app.register(liveApi, {
    database, rateLimiter: deps.rateLimiter, pubsub, auth, guards, sockets,
    anonymousWritesPerMinute: config.auth.anonymousWritesPerMinute, limits: config.liveLimits,
  });
  await app.register(webAppRoutes, { publicUrl: config.publicUrl, storage: config.storage });

  return app;
}
