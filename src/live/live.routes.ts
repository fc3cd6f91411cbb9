import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/auth.service.ts';
import { anonymousPerIpLimit } from '../http/anonymous-limit.ts';
import type { LiveLimitsConfig } from '../config/config.ts';
import type { AuthGuards } from '../http/authenticate.ts';
import type { SocketGuard } from '../http/guarded-socket.ts';
import type { DatabaseHandle } from '../infra/db/database.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import type { RateLimiter } from '../infra/rate-limit/rate-limiter.ts';
import { calibrationRoutes } from './calibration.routes.ts';
import { PostureEventIngest, type EventRateLimit } from './event-ingest.ts';
import { createLiveDevicesRepository } from './live-devices.repository.ts';
import { LiveDevicesService } from './live-devices.service.ts';
import { createLiveSessionsRepository } from './live-sessions.repository.ts';
import { liveSessionsRoutes } from './live-sessions.routes.ts';
import { LiveSessionsService } from './live-sessions.service.ts';
import { PostureFeed } from './posture-feed.ts';
import { postureSocketRoutes } from './posture-socket.routes.ts';

/** SPEC 7: more than 10 events per session in any 1-second window is refused. */
export const LIVE_EVENT_RATE_LIMIT: EventRateLimit = { events: 10, windowMs: 1_000 };

export interface LiveApiDeps {
  database: DatabaseHandle;
  rateLimiter: RateLimiter;
  pubsub: PubSub;
  auth: AuthService;
  guards: AuthGuards;
  sockets: SocketGuard;
  rateLimit?: EventRateLimit;
  /** Anonymous session starts and device metrics per client IP per minute (each route its own budget). */
  anonymousWritesPerMinute: number;
  limits: LiveLimitsConfig;
  heartbeatMs?: number;
}

/**
 * The live API (family B sessions, calibration, device metrics, WebSocket feed): builds its services from the
 * given ports and registers its routes. Needs @fastify/websocket on the root instance.
 */
export async function liveApi(app: FastifyInstance, deps: LiveApiDeps): Promise<void> {
  const { db, engine } = deps.database;
  const repository = createLiveSessionsRepository(db);
  const feed = new PostureFeed(deps.pubsub);
  const ingest = new PostureEventIngest({
    sessions: repository, limiter: deps.rateLimiter, feed, rateLimit: deps.rateLimit ?? LIVE_EVENT_RATE_LIMIT,
    dailyLimits: { perUser: deps.limits.eventsPerDayPerUser, perIp: deps.limits.eventsPerDayPerIp },
    // PGlite has one connection: a second writer would only queue behind the first.
    concurrency: engine === 'pglite' ? 1 : 4,
    log: app.log,
  });
  const { limits } = deps;
  const sessions = new LiveSessionsService({
    sessions: repository, ingest, eventLimits: limits,
    openSessions: {
      perUser: { limit: limits.openSessionsPerUser, hours: limits.openSessionHours },
      perIp: { limit: limits.openSessionsPerIp, hours: limits.openSessionHours },
    },
  });
  const devices = new LiveDevicesService({
    devices: createLiveDevicesRepository(db), onCalibrated: (userId) => ingest.cache.forgetUser(userId),
  });

  const anonymousLimit = (route: string) => anonymousPerIpLimit(deps.rateLimiter, route, deps.anonymousWritesPerMinute);
  await app.register(liveSessionsRoutes, {
    sessions, guards: deps.guards, startLimit: anonymousLimit('sessions-start'), eventBodyMaxBytes: limits.eventBodyMaxBytes,
  });
  await app.register(calibrationRoutes, { devices, guards: deps.guards, metricsLimit: anonymousLimit('device-metrics') });
  await app.register(postureSocketRoutes, {
    auth: deps.auth, sessions, feed, sockets: deps.sockets, heartbeatMs: deps.heartbeatMs,
  });
}
