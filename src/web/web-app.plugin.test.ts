import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp } from '../../scripts/build-web.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { webAppRoutes } from './web-app.plugin.ts';

let t: TestApp;
let html = '';

beforeAll(async () => {
  await buildWebApp();
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('the web app served by the API', () => {
  it('serves index.html at / with a same-origin CSP that lets the live page compile WASM', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/', headers: { host: 'postura.test:5000' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("worker-src 'self' blob:");
    expect(csp).toContain("connect-src 'self' ws://postura.test:5000 wss://postura.test:5000");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    html = response.body;
    expect(html).toMatch(/<script type="module" src="\/app\/main-[A-Z0-9]+\.js"><\/script>/);
  });

  it('serves the hashed assets with a long cache', async () => {
    const script = /src="(\/app\/main-[A-Z0-9]+\.js)"/.exec(html)![1]!;
    const response = await t.app.inject({ method: 'GET', url: script });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^(application|text)\/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('leaves the API routes without the app CSP', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-security-policy']).toBeUndefined();
  });

  it('serves the MoveNet Lightning model and the TensorFlow.js WASM binaries from the installed packages', async () => {
    const model = await t.app.inject({ method: 'GET', url: '/app/models/movenet-lightning.json' });
    expect(model.statusCode).toBe(200);
    expect(model.headers['content-type']).toContain('application/json');
    expect(model.json()).toHaveProperty('weightsManifest');
    const wasm = await t.app.inject({ method: 'GET', url: '/app/tfjs/tfjs-backend-wasm-simd.wasm' });
    expect(wasm.statusCode).toBe(200);
    expect(wasm.headers['content-type']).toBe('application/wasm');
    expect(wasm.rawPayload.subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  });

  it('serves nothing else from those folders: no other names, no way out', async () => {
    // Sent as written (inject would resolve the dots first): the paths a crafted request can carry.
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    for (const url of [
      '/app/models/movenet-thunder.json',
      '/app/models/../../package.json',
      '/app/models/..%2f..%2fpackage.json',
      '/app/tfjs/..%2f..%2f..%2fpackage.json',
      '/app/../../package.json',
      '/app/..%2f..%2fpackage.json',
      '/app/%2e%2e%2f%2e%2e%2fpackage.json',
    ]) {
      const { status, body } = await rawGet(port, url);
      expect([400, 403, 404], url).toContain(status);
      expect(body, url).not.toContain('"name": "postura"');
    }
  });
});

describe('without a build', () => {
  it('answers / with a 503 page saying how to build the app', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'postura-web-'));
    const app = Fastify();
    await app.register(webAppRoutes, { distDir: empty, publicUrl: 'http://localhost:5000', storage: { driver: 'fs', root: empty } });
    try {
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('npm run build:web');
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

/** A GET whose path goes out byte for byte (Node's client does not resolve `..`). */
function rawGet(port: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: url }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}
