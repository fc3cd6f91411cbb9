import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRoutes } from './health.routes.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('operations routes', () => {
  it('GET /api/health answers healthy', async () => {
    const response = await t.app.inject({ url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'healthy' });
  });

  it('GET /api/ready checks the database and the object store, and answers 503 when one fails', async () => {
    const response = await t.app.inject({ url: '/api/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok', objectStore: 'ok' } });
    const probe = Fastify({ logger: false });
    await probe.register(healthRoutes, {
      checks: {
        database: async () => {
          throw new Error('connection refused');
        },
        objectStore: async () => {},
      },
    });
    const down = await probe.inject({ url: '/api/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'unavailable', checks: { database: 'failed', objectStore: 'ok' } });
    await probe.close();
  });

  it('GET /metrics exposes request latency by route pattern in Prometheus format', async () => {
    await t.app.inject({ url: '/api/health' });
    const response = await t.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/plain/);
    expect(response.body).toMatch(/postura_http_request_duration_seconds_count\{method="GET",route="\/api\/health",status_code="200"\} \d+/);
    expect(response.body).toContain('postura_process_resident_memory_bytes');
  });

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const given = await t.app.inject({ url: '/api/health', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const unsafe = await t.app.inject({ url: '/api/health', headers: { 'x-request-id': 'a b\u0000c' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes 404 in each family\'s shape', async () => {
    const studio = await t.app.inject({ url: '/api/nothing-here' });
    expect(studio.statusCode).toBe(404);
    expect(studio.json()).toEqual({
      error: 'Route GET /api/nothing-here not found', message: 'Route GET /api/nothing-here not found', code: 'not_found',
    });
    const live = await t.app.inject({ method: 'POST', url: '/api/sessions/unknown/nothing/' });
    expect(live.statusCode).toBe(404);
    expect(live.json()).toEqual({ detail: expect.stringMatching(/not found/), code: 'not_found' });
  });

  it('answers an unsupported content type with 415 and an oversized body with 413', async () => {
    const xml = await t.app.inject({ method: 'POST', url: '/auth/login', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('unsupported_media_type');
    const huge = await t.app.inject({
      method: 'POST', url: '/api/auth/login/', payload: JSON.stringify({ email: 'x'.repeat(2 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ detail: expect.any(String), code: 'payload_too_large' });
  });

  it('documents every route in the OpenAPI document and serves the UI at /docs', async () => {
    const spec = (await t.app.inject({ url: '/docs/json' })).json();
    const documented = new Set(Object.entries(spec.paths as Record<string, object>)
      .flatMap(([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`)));
    const expected = [
      'POST /auth/register', 'POST /auth/login', 'POST /auth/logout', 'GET /auth/profile', 'GET /auth/validate-session',
      'GET /auth/ws-token', 'POST /api/auth/signup/', 'POST /api/auth/login/', 'GET /api/auth/me/', 'GET /api/health',
      'GET /api/ready', 'POST /api/posture/score', 'POST /api/video/upload', 'POST /api/video/delete',
      'POST /api/video/delete/multiview', 'GET /api/analysis/list', 'GET /api/analysis/summary', 'GET /api/analysis/{id}',
      'DELETE /api/analysis/{id}', 'POST /api/analysis/retry/{id}', 'GET /api/analysis/report/{id}',
      'GET /api/analysis/{id}/frames.csv', 'GET /api/user', 'GET /api/users', 'GET /api/user/{id}',
      'GET /api/analysis/list/{user_id}', 'POST /api/sessions/start/', 'POST /api/sessions/{id}/event/',
      'GET /api/calibration/', 'POST /api/device_metrics/', 'GET /auth/gen-tele-link',
    ];
    for (const route of expected) expect(documented).toContain(route);
    // The studio error body documents the `message` the web client's toasts read.
    const studioError = Object.values(spec.components.schemas as Record<string, { title?: string; required?: string[] }>)
      .find((schema) => schema.title === 'StudioError');
    expect(studioError?.required).toEqual(expect.arrayContaining(['error', 'message', 'code']));
    expect(spec.paths['/auth/gen-tele-link'].get.responses).toHaveProperty('501');
    const ui = await t.app.inject({ url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });
});
