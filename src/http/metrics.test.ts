import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type MetricsConfig } from '../config/config.ts';
import { installErrorHandler } from './error-handler.ts';
import { createMetricsRegistry, installRequestMetrics } from './metrics.ts';

const HTTP = { headersTimeoutMs: 10_000, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, bodyTimeoutMs: 30_000 };
const TOKEN = 'metrics-token-0123456789';
let app: FastifyInstance;

async function appWith(metrics: MetricsConfig, production: boolean): Promise<FastifyInstance> {
  app = Fastify({ logger: false });
  installErrorHandler(app);
  installRequestMetrics(app, createMetricsRegistry(), { metrics, host: '127.0.0.1', http: HTTP, production });
  app.get('/api/health', async () => ({ status: 'healthy' }));
  await app.ready();
  return app;
}

afterEach(async () => {
  await app?.close();
});

describe('GET /metrics exposure', () => {
  it('neither token nor port: served in development, not at all in production', async () => {
    expect((await (await appWith({ token: null, port: null }, false)).inject({ url: '/metrics' })).statusCode).toBe(200);
    await app.close();
    expect((await (await appWith({ token: null, port: null }, true)).inject({ url: '/metrics' })).statusCode).toBe(404);
  });

  it('METRICS_TOKEN: served on the main port to that bearer token only, in production too', async () => {
    await appWith({ token: TOKEN, port: null }, true);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('postura_process_resident_memory_bytes');
  });

  it('METRICS_PORT: served on its own port (token still required when set), not on the main port', async () => {
    await appWith({ token: TOKEN, port: 0 }, true);
    expect((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404);
    await app.listen({ host: '127.0.0.1', port: 0 });
    await app.inject({ url: '/api/health' });
    const { port } = app.metricsServer!.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/other`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/postura_http_request_duration_seconds_count\{method="GET",route="\/api\/health",status_code="200"\} 1/);
    await app.close();
    expect(app.metricsServer!.listening).toBe(false);
  });

  it('reads METRICS_TOKEN and METRICS_PORT from the environment, unset by default', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, port: null });
    expect(loadConfig({ METRICS_TOKEN: TOKEN, METRICS_PORT: '9464' }).metrics).toEqual({ token: TOKEN, port: 9464 });
  });
});
