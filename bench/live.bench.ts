// Live API benchmark: events/s and p99 of POST /api/sessions/:id/event/ vs a bare Fastify route that parses the
// same JSON body (same process, same run, same load generator), and event-to-WebSocket delivery latency at a fixed
// 1,000 events/s, split by stage (client → server, write, publish, fan-out, socket → client) from the server's
// delivery trace (src/live/delivery-trace.ts). The load generator runs in a child process so the server keeps a
// core of its own.
// Run alone: `node --import tsx bench/live.bench.ts [--seconds=10] [--connections=10] [--delivery-only]
//   [--generator=paced|autocannon] [--rate=1000] [--warmup=5] [--cpu-profile=server.cpuprofile] [--arrivals=file.json]`.
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
import { openDatabase, type DatabaseHandle } from '../src/infra/db/database.ts';
import { migrate } from '../src/infra/db/migrator.ts';
import { MemoryPubSub } from '../src/infra/pubsub/memory-pubsub.ts';
import { RedisPubSub } from '../src/infra/pubsub/redis-pubsub.ts';
import { MemoryRateLimiter } from '../src/infra/rate-limit/memory-rate-limiter.ts';
import { RedisRateLimiter } from '../src/infra/rate-limit/redis-rate-limiter.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import inspector from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { onDeliveryTrace, type DeliveryStage } from '../src/live/delivery-trace.ts';
import { MEASURING, type DeliveryArrival, type DeliveryFigures, type DeliveryGenerator, type LoadJob, type ThroughputFigures } from './live-load.ts';

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
  delivery: DeliveryResult;
}

/** One stage of the way, in ms over the events that reached the socket (each stage's percentiles on their own). */
export interface StageFigures { p50Ms: number; p99Ms: number; maxMs: number }

export type DeliveryResult = Omit<DeliveryFigures, 'arrivals'> & {
  rate: number;
  /** published → written to the socket (the fan-out alone), p99 ms. */
  fanoutP99Ms: number;
  /** request arrival (body parsed) → INSERT committed, p99 ms. */
  writeP99Ms: number;
  /**
   * client wrote the POST → server handed the parsed event to the ingest; → INSERT committed; → published;
   * → written to the socket; → client read it. Percentiles of separate stages do not add up to the total's.
   */
  stages: Record<'toServer' | 'write' | 'toPublish' | 'fanout' | 'toClient', StageFigures>;
  /** The server's event-loop delay during the delivery run, p99 ms. */
  serverLoopP99Ms: number;
  /** Events whose every stage was seen (the stage figures are over these). */
  traced: number;
  /** The server process's CPU time (user + system) over the run, per event posted: the load-independent cost. */
  serverCpuMsPerEvent: number;
  /**
   * Share of the run the server's main thread spent runnable but waiting for a CPU (Linux schedstat; null
   * elsewhere): other processes on the machine, the load generator included. Above a few per cent, the latency
   * figures measure the machine's load more than the server.
   */
  serverRunQueueShare: number | null;
};

/** The server's event-loop delay sampling interval, ms. */
const LOOP_RESOLUTION_MS = 10;

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

export function runLoad<T>(job: LoadJob, onMeasuring?: () => void): Promise<T> {
  const child = fork(fileURLToPath(new URL('./live-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  return new Promise<T>((resolve, reject) => {
    child.on('message', (message) => {
      if ((message as { type?: string }).type === MEASURING) onMeasuring?.();
      else resolve(message as T);
    });
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(job);
  });
}

/**
 * The server's settings for a bench: PostgreSQL in a schema of its own when DATABASE_URL is set, else PGlite in a
 * temporary folder on disk, as `npm start` runs it (an in-memory PGlite copies its growing files around in memory:
 * another cost than the server's). `cleanup` drops the schema or the folder.
 */
export async function benchConfig(): Promise<{ config: Config; cleanup: () => Promise<void> }> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: randomBytes(32).toString('hex'), REDIS_URL: process.env.REDIS_URL });
  if (!databaseUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'postura-bench-'));
    return {
      config: loadConfig({}, { ...base, database: { driver: 'pglite', dataDir: path.join(dir, 'pglite') } }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({}, { ...base, database: { driver: 'postgres', url: databaseUrl, schema, poolSize: 10 } });
  return {
    config,
    async cleanup() {
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

/**
 * One user, one socket, events spread over that user's sessions at a fixed total rate; each event's way through
 * the server is timed from the delivery trace and joined with the client's send and receive times by `sent_at`.
 */
async function measureDelivery(
  app: FastifyInstance, database: { db: DatabaseHandle['db'] }, url: string, body: string,
  options: DeliveryOptions & { seconds: number },
): Promise<DeliveryResult> {
  const { seconds, rate = 1_000, generator = 'paced', warmupSeconds = 5 } = options;
  const register = await app.inject({
    method: 'POST', url: '/auth/register',
    payload: { email: `bench-${randomBytes(4).toString('hex')}@example.com`, name: 'Bench', password: 'bench-password-1' },
  });
  const { token, user } = register.json() as { token: string; user: { id: string } };
  const owned = Array.from({ length: 400 }, () => randomUUID());
  await database.db.insertInto('live_sessions')
    .values(owned.map((id) => ({ id, user_id: user.id, device_id: 'bench' }))).execute();

  const job = {
    kind: 'delivery', url, paths: owned.map((id) => `/api/sessions/${id}/event/`), body, rate, generator,
    socketUrl: `${url.replace(/^http/, 'ws')}/ws/posture/?token=${token}`,
  } as const;
  // sent_at → the first time each stage saw the event (`sent` marks carry the event id only: joined by id).
  const marks = new Map<number, Partial<Record<DeliveryStage, number>>>();
  const sentAtOf = new Map<number, number>();
  const sentById = new Map<number, number>();
  const stopTrace = onDeliveryTrace((mark) => {
    for (const event of mark.events) {
      if (mark.stage === 'sent') {
        if (event.id !== undefined && !sentById.has(event.id)) sentById.set(event.id, mark.at);
        continue;
      }
      const sentAt = event.metadata?.sent_at;
      if (typeof sentAt !== 'number') continue;
      if (event.id !== undefined) sentAtOf.set(event.id, sentAt);
      const seen = marks.get(sentAt) ?? {};
      seen[mark.stage] ??= mark.at;
      marks.set(sentAt, seen);
    }
  });
  // The server's figures cover the measured run only: from the generator's word that its warm-up is over. The
  // warm-up is the same load on the same sessions and connections, unmeasured but reported (coldStart): a process
  // that has just started runs cold (code not yet optimised, every session's state read for the first time).
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  let window: Promise<{ cpu: NodeJS.CpuUsage; sched: Awaited<ReturnType<typeof mainThreadSchedstat>>; wall: number;
    profiler: { stop(): Promise<object> } | null }> | undefined;
  const measuring = () => {
    loop.enable();
    const [cpu, wall] = [process.cpuUsage(), performance.now()];
    window = (async () => ({
      cpu, wall, sched: await mainThreadSchedstat(), profiler: options.cpuProfile ? await startProfiler() : null,
    }))();
  };
  let figures: DeliveryFigures;
  try {
    figures = await runLoad<DeliveryFigures>({ ...job, seconds, warmupSeconds }, measuring);
  } finally {
    loop.disable();
    stopTrace();
  }
  if (!window) throw new Error('the load generator never started its measured run');
  const { cpu: cpuBefore, sched: schedBefore, wall: wallBefore, profiler } = await window;
  if (profiler) await writeFile(options.cpuProfile!, JSON.stringify(await profiler.stop()));
  if (options.arrivalsFile) {
    await writeFile(options.arrivalsFile, JSON.stringify({ arrivals: figures.arrivals, marks: [...marks] }));
  }
  const cpu = process.cpuUsage(cpuBefore);
  const schedAfter = await mainThreadSchedstat();
  const wall = performance.now() - wallBefore;
  for (const [id, at] of sentById) {
    const seen = marks.get(sentAtOf.get(id) ?? NaN);
    if (seen) seen.sent = at;
  }
  const { arrivals, ...rest } = figures;
  const stages = stageFigures(arrivals, marks);
  return {
    ...rest, rate, stages, fanoutP99Ms: stages.fanout.p99Ms, writeP99Ms: stages.write.p99Ms,
    // The histogram records whole timer intervals: less the resolution, what is left is the delay.
    serverLoopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS), traced: stages.traced,
    serverCpuMsPerEvent: (cpu.user + cpu.system) / 1000 / Math.max(1, figures.sent),
    serverRunQueueShare: schedBefore && schedAfter ? (schedAfter.waitMs - schedBefore.waitMs) / wall : null,
  };
}

/** The main thread's time on a CPU and waiting in the run queue, from /proc (Linux); null where there is none. */
async function mainThreadSchedstat(): Promise<{ runMs: number; waitMs: number } | null> {
  try {
    const [run, wait] = (await readFile(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8')).trim().split(/\s+/).map(Number);
    return run === undefined || wait === undefined ? null : { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return null;
  }
}

/** The server process's CPU profile over the delivery run only (`--cpu-profile=file.cpuprofile`). */
async function startProfiler(): Promise<{ stop(): Promise<object> }> {
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params?: object) => new Promise<T>((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = await post<{ profile: object }>('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

function stageFigures(arrivals: readonly DeliveryArrival[], marks: Map<number, Partial<Record<DeliveryStage, number>>>):
  DeliveryResult['stages'] & { traced: number } {
  const spans = { toServer: [] as number[], write: [] as number[], toPublish: [] as number[], fanout: [] as number[], toClient: [] as number[] };
  for (const { sentAt, receivedAt } of arrivals) {
    const m = marks.get(sentAt);
    if (m?.received === undefined || m.committed === undefined || m.published === undefined || m.sent === undefined) continue;
    spans.toServer.push(m.received - sentAt);
    spans.write.push(m.committed - m.received);
    spans.toPublish.push(m.published - m.committed);
    spans.fanout.push(m.sent - m.published);
    spans.toClient.push(receivedAt - m.sent);
  }
  const figures = (values: number[]): StageFigures => {
    values.sort((a, b) => a - b);
    const at = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? NaN;
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: values.at(-1) ?? NaN };
  };
  return {
    toServer: figures(spans.toServer), write: figures(spans.write), toPublish: figures(spans.toPublish),
    fanout: figures(spans.fanout), toClient: figures(spans.toClient), traced: spans.toServer.length,
  };
}

async function bareServer(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.post('/bare/:id/event/', async (_request, reply) => reply.status(201).send({ stored_events: 1 }));
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

export interface DeliveryOptions {
  rate?: number;
  generator?: DeliveryGenerator;
  /** Writes the server's CPU profile over the delivery run to this file. */
  cpuProfile?: string;
  /** The load runs this long first on the just-started server; those figures are reported apart (default 5; paced only). */
  warmupSeconds?: number;
  /** Writes each measured event's send and receive times, and the server's marks of it, to this file (a timeline). */
  arrivalsFile?: string;
}

export interface LiveBenchOptions {
  seconds?: number;
  connections?: number;
  delivery?: DeliveryOptions;
  log?: (line: string) => void;
}

/** The server under test (the whole app on the live adapters), started, and torn down after `run`. */
async function withLiveServer<T>(run: (server: {
  app: FastifyInstance; url: string; adapters: Awaited<ReturnType<typeof openLiveAdapters>>; config: Config;
}) => Promise<T>): Promise<T> {
  const { config, cleanup } = await benchConfig();
  const adapters = await openLiveAdapters(config);
  const app = await buildApp({ config, jwtSecret: config.auth.jwtSecret!, ...adapters });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return await run({ app, url, adapters, config });
  } finally {
    await app.close();
    await adapters.close();
    await cleanup();
  }
}

export async function runLiveBench(options: LiveBenchOptions = {}): Promise<LiveBenchResult> {
  const { seconds = 10, connections = 10, log = console.log } = options;
  const bare = await bareServer();
  try {
    return await withLiveServer(async ({ app, url, adapters, config }) => {
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

      const delivery = await measureDelivery(app, adapters.database, url, body, { seconds, ...options.delivery });
      logDelivery(delivery, log);
      return {
        database: config.database.driver,
        pubsub: config.redis.driver === 'redis' ? 'redis' : 'memory',
        seconds, connections, sessions: sessionCount,
        bare: bareFigures, event: eventFigures, ratio, delivery,
      };
    });
  } finally {
    await bare.app.close();
  }
}

/** The delivery run alone (no throughput comparison before it): `--delivery-only`. */
export async function runDeliveryBench(options: Omit<LiveBenchOptions, 'connections'> = {}):
  Promise<Pick<LiveBenchResult, 'database' | 'pubsub' | 'seconds' | 'delivery'>> {
  const { seconds = 10, log = console.log } = options;
  return withLiveServer(async ({ app, url, adapters, config }) => {
    const delivery = await measureDelivery(app, adapters.database, url, eventBody(), { seconds, ...options.delivery });
    logDelivery(delivery, log);
    return { database: config.database.driver, pubsub: config.redis.driver === 'redis' ? 'redis' : 'memory', seconds, delivery };
  });
}

function logDelivery(delivery: DeliveryResult, log: (line: string) => void): void {
  log(`live delivery at ${delivery.rate} events/s (${delivery.generator}): ${delivery.received}/${delivery.sent} received `
    + `(${delivery.deliveredPerSecond.toFixed(0)}/s), `
    + `p50 ${delivery.p50Ms.toFixed(2)} ms, p99 ${delivery.p99Ms.toFixed(2)} ms (goal ≤ 10), max ${delivery.maxMs.toFixed(2)} ms; `
    + `post p99 ${delivery.postP99Ms.toFixed(1)} ms`);
  const cold = delivery.coldStart;
  if (cold) {
    log(`live delivery, the server's first ${cold.seconds} s (cold, before the run above): p50 ${cold.p50Ms.toFixed(2)} ms, `
      + `p99 ${cold.p99Ms.toFixed(2)} ms, max ${cold.maxMs.toFixed(2)} ms`);
  }
  const st = delivery.stages;
  const fmt = (f: StageFigures) => `${f.p50Ms.toFixed(2)}/${f.p99Ms.toFixed(2)}`;
  log(`live delivery stages p50/p99 ms (${delivery.traced} traced): client→server ${fmt(st.toServer)}, write ${fmt(st.write)}, `
    + `publish ${fmt(st.toPublish)}, fan-out ${fmt(st.fanout)}, socket→client ${fmt(st.toClient)}; `
    + `event-loop delay p99 server ${delivery.serverLoopP99Ms.toFixed(1)} ms, client ${delivery.clientLoopP99Ms.toFixed(1)} ms `
    + `(client CPU ${(delivery.clientCpuShare * 100).toFixed(0)} % of a core); `
    + `server CPU ${delivery.serverCpuMsPerEvent.toFixed(3)} ms/event, waiting for a CPU ${delivery.serverRunQueueShare === null ? 'n/a'
      : `${(delivery.serverRunQueueShare * 100).toFixed(0)} % of the run`}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const seconds = arg('seconds') ? Number(arg('seconds')) : undefined;
  const delivery = {
    rate: arg('rate') ? Number(arg('rate')) : undefined, generator: arg('generator') as DeliveryGenerator | undefined,
    cpuProfile: arg('cpu-profile'), warmupSeconds: arg('warmup') ? Number(arg('warmup')) : undefined,
    arrivalsFile: arg('arrivals'),
  };
  const run = process.argv.includes('--delivery-only')
    ? runDeliveryBench({ seconds, delivery })
    : runLiveBench({ seconds, delivery, connections: arg('connections') ? Number(arg('connections')) : undefined });
  run.then((result) => console.log(JSON.stringify(result, null, 2)), (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
