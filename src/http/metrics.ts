import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { HttpConfig, MetricsConfig } from '../config/config.ts';
import { errors } from '../errors/app-error.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The separate server of GET /metrics when METRICS_PORT is set (listening once the app listens), else null. */
    metricsServer: http.Server | null;
  }
}

/** One registry per app instance, so several apps in one process (tests) never share counters. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'postura_' });
  return registry;
}

export interface MetricsExposure {
  metrics: MetricsConfig;
  /** Where a separate metrics port binds (HOST), and its connection timeouts (the main server's). */
  host: string;
  http: HttpConfig;
  production: boolean;
}

/**
 * Counts requests, and serves GET /metrics where the configuration says (see MetricsConfig): the metrics name
 * routes, volumes and process internals, so in production they are never public by default.
 */
export function installRequestMetrics(app: FastifyInstance, registry: Registry, exposure: MetricsExposure): void {
  const duration = new Histogram({
    name: 'postura_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded (ids and unknown paths collapse).
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const { token, port } = exposure.metrics;
  app.decorate('metricsServer', port === null ? null : separateMetricsServer(app, registry, { ...exposure, port }));
  if (port !== null || (!token && exposure.production)) return;
  app.get('/metrics', {
    schema: { hide: true },
    preHandler: async (request: FastifyRequest) => {
      if (token && !bearerMatches(request.headers.authorization, token)) throw errors.unauthenticated();
    },
  }, async (_request, reply) => {
    reply.header('Content-Type', registry.contentType);
    return registry.metrics();
  });
}

/** A plain HTTP server answering GET /metrics only; it listens when the app does and closes with it. */
function separateMetricsServer(
  app: FastifyInstance, registry: Registry, exposure: MetricsExposure & { port: number },
): http.Server {
  const { token } = exposure.metrics;
  const server = http.createServer({ headersTimeout: exposure.http.headersTimeoutMs, requestTimeout: 0 }, (req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
    } else if (token && !bearerMatches(req.headers.authorization, token)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer' }).end();
    } else {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (error: unknown) => {
          app.log.error({ err: error }, 'metrics not collected');
          res.writeHead(500).end();
        },
      );
    }
  });
  server.setTimeout(exposure.http.idleTimeoutMs);
  server.keepAliveTimeout = exposure.http.keepAliveTimeoutMs;
  app.addHook('onListen', async () => {
    await new Promise<void>((resolve) => {
      // Fastify only logs an onListen failure; saying which port clashed is what an operator needs.
      server.once('error', (error) => {
        app.log.error({ err: error, port: exposure.port }, 'metrics port could not be bound; /metrics is not served');
        resolve();
      });
      server.listen(exposure.port, exposure.host, () => resolve());
    });
  });
  app.addHook('onClose', async () => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return server;
}

/** Compares digests, so the time taken says nothing about how much of the token matched. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}
