// Live API benchmark: events/s and p99 of POST /api/sessions/:id/event/ vs a bare Fastify route that parses the
// same JSON body (same process, same run, same load generator), and event-to-WebSocket delivery latency at a fixed
// 1,000 events/s. The load generator runs in a child process so the server keeps a core of its own.
// Run alone: `node --import tsx bench/live.bench.ts [--seconds=10] [--connections=10]`.
// Embedded (PGlite, in-process pub/sub) by default; DATABASE_URL / REDIS_URL switch to the real servers.
import { fork } from 'node:child_process';
import { queueOptions } from '../src/infra/adapters.ts';
import { openObjectStore } from '../src/infra/object-store/open-object-store.ts';
import { openPgBossQueue } from '../src/infra/queue/pg-boss-queue.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config/config.ts';
import { openDatabase } from '../src/infra/db/database.ts';
import { migrate } from '../src/infra/db/migrator.ts';
import { MemoryPubSub } from '../src/infra/pubsub/memory-pubsub.ts';
import { RedisPubSub } from '../src/infra/pubsub/redis-pubsub.ts';
import { MemoryRateLimiter } from '../src/infra/rate-limit/memory-rate-limiter.ts';
import { RedisRateLimiter } from '../src/infra/rate-limit/redis-rate-limiter.ts';
import type { DeliveryFigures, LoadJob, ThroughputFigures } from './live-load.ts';

export interface LiveBenchResult {
  database: string;
  pubsub: string;
  seconds: number;
  connections: number;
  /** Requests rotate over this many live sessions, so the 10 events/s per-session limit is never the bottleneck. */
  sessions: number;
  bare: ThroughputFigures;
  event: ThroughputFigures;
  /** event / bare events per second: goal ≥ 0.5. */
  ratio: number;
  /** At 1,000 events/s: post sent → event received on the owner's socket. Goal: p99 ≤ 10 ms. */
  delivery: DeliveryFigures & { rate: number };
}

const COCO = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'];

/** A realistic client event: all 17 COCO keypoints of a slightly leaning person (about 1 KB of JSON). */
export function eventBody(): string {
  const keypoints = Object.fromEntries(COCO.map((name, i) => [name, {
    x: Math.round((300 + (name.startsWith('left') ? -40 : 40) + (name.includes('hip') ? 25 : 0)) * 100) / 100,
    y: 80 + i * 30,
    confidence: 0.87,
  }]));
  return JSON.stringify({ keypoints, metadata: { app: 'bench', fps: 30 } });
}

export function runLoad<T>(job: LoadJob): Promise<T> {
  const child = fork(fileURLToPath(new URL('./live-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  return new Promise<T>((resolve, reject) => {
    child.once('message', (figures) => resolve(figures as T));
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(job);
  });
}

export async function benchConfig(): Promise<{ config: Config; dropSchema?: () => Promise<void> }> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: randomBytes(32).toString('hex'), REDIS_URL: process.env.REDIS_URL });
  if (!databaseUrl) return { config: loadConfig({}, { ...base, database: { driver: 'pglite', dataDir: null } }) };
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({}, { ...base, database: { driver: 'postgres', url: databaseUrl, schema, poolSize: 10 } });
  return {
    config,
    async dropSchema() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** Only what the live API uses (no job queue or object store running beside the measurement). */
export async function openLiveAdapters(config: Config) {
  const database = await openDatabase(config.database);
  await migrate(database);
  const redis = config.redis.driver === 'redis' ? config.redis.url : null;
  const prefix = `postura:bench:${randomBytes(4).toString('hex')}:`;
  const rateLimiter = redis ? new RedisRateLimiter(redis, prefix) : new MemoryRateLimiter();
  const pubsub = redis ? new RedisPubSub(redis, prefix) : new MemoryPubSub();
  const { store, signer } = openObjectStore(config, config.auth.jwtSecret!);
  const queue = await openPgBossQueue(database, queueOptions(config), () => {});
  return {
    database, rateLimiter, pubsub, store, signer, queue,
    async close() {
      await queue.stop();
      await pubsub.close();
      await rateLimiter.close();
      await database.close();
    },
  };
}

async function bareServer(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.post('/bare/:id/event/', async (_request, reply) => reply.status(201).send({ stored_events: 1 }));
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

export async function runLiveBench(options: { seconds?: number; connections?: number; log?: (line: string) => void } = {}):
  Promise<LiveBenchResult> {
  const { seconds = 10, connections = 10, log = console.log } = options;
  const { config, dropSchema } = await benchConfig();
  const adapters = await openLiveAdapters(config);
  const app = await buildApp({ config, jwtSecret: config.auth.jwtSecret!, ...adapters });
  const bare = await bareServer();
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const body = eventBody();

    // Enough anonymous sessions that each gets well under 10 events/s at the rates reached here.
    const sessionCount = 2_000;
    const ids = Array.from({ length: sessionCount }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 1_000) {
      await adapters.database.db.insertInto('live_sessions')
        .values(ids.slice(i, i + 1_000).map((id) => ({ id, user_id: null, device_id: 'bench' }))).execute();
    }
    const eventPaths = ids.map((id) => `/api/sessions/${id}/event/`);
    const barePaths = ids.map((id) => `/bare/${id}/event/`);

    const measure = (target: string, paths: string[], s: number) =>
      runLoad<ThroughputFigures>({ kind: 'throughput', url: target, paths, body, seconds: s, connections });
    await measure(bare.url, barePaths, 2);
    await measure(url, eventPaths, 2);
    const bareFigures = await measure(bare.url, barePaths, seconds);
    log(`live bare route: ${bareFigures.requestsPerSecond.toFixed(0)} req/s, p99 ${bareFigures.p99Ms} ms`);
    const eventFigures = await measure(url, eventPaths, seconds);
    const ratio = eventFigures.requestsPerSecond / bareFigures.requestsPerSecond;
    log(`live event route: ${eventFigures.requestsPerSecond.toFixed(0)} events/s, p99 ${eventFigures.p99Ms} ms, `
      + `non-2xx ${eventFigures.non2xx}; ratio ${ratio.toFixed(2)} (goal ≥ 0.5)`);

    // Delivery: one user, one socket, events spread over that user's sessions at a fixed total rate.
    const register = await app.inject({
      method: 'POST', url: '/auth/register',
      payload: { email: `bench-${randomBytes(4).toString('hex')}@example.com`, name: 'Bench', password: 'bench-password-1' },
    });
    const { token, user } = register.json() as { token: string; user: { id: string } };
    const owned = Array.from({ length: 400 }, () => randomUUID());
    await adapters.database.db.insertInto('live_sessions')
      .values(owned.map((id) => ({ id, user_id: user.id, device_id: 'bench' }))).execute();
    const rate = 1_000;
    const delivery = await runLoad<DeliveryFigures>({
      kind: 'delivery', url, paths: owned.map((id) => `/api/sessions/${id}/event/`), body, seconds, rate,
      socketUrl: `${url.replace(/^http/, 'ws')}/ws/posture/?token=${token}`,
    });
    log(`live delivery at ${rate} events/s: ${delivery.received}/${delivery.sent} received, p50 ${delivery.p50Ms.toFixed(2)} ms, `
      + `p99 ${delivery.p99Ms.toFixed(2)} ms (goal ≤ 10), max ${delivery.maxMs.toFixed(2)} ms; post p99 ${delivery.postP99Ms} ms`);

    return {
      database: config.database.driver,
      pubsub: config.redis.driver === 'redis' ? 'redis' : 'memory',
      seconds, connections, sessions: sessionCount,
      bare: bareFigures, event: eventFigures, ratio, delivery: { ...delivery, rate },
    };
  } finally {
    await bare.app.close();
    await app.close();
    await adapters.close();
    await dropSchema?.();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  runLiveBench({
    seconds: arg('seconds') ? Number(arg('seconds')) : undefined,
    connections: arg('connections') ? Number(arg('connections')) : undefined,
  }).then((result) => console.log(JSON.stringify(result, null, 2)), (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
