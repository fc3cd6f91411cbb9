// Load generator for bench/live.bench.ts, run as a child process so the server under test keeps its own core.
// Receives one job over IPC, answers with the figures, exits.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { WebSocket } from 'ws';
import { monotonicMs } from '../src/live/delivery-trace.ts';

export type LoadJob =
  | { kind: 'throughput'; url: string; paths: string[]; body: string; seconds: number; connections: number }
  | { kind: 'get'; url: string; headers: Record<string, string>; seconds: number; connections: number }
  | {
    kind: 'delivery'; url: string; paths: string[]; body: string; seconds: number; rate: number; socketUrl: string;
    generator?: DeliveryGenerator;
    /** Paced only: the same load this long first, on the same connections, reported apart (`coldStart`). */
    warmupSeconds?: number;
  };

/** What the delivery generator tells its parent when the warm-up is over and the measured run starts. */
export const MEASURING = 'measuring';

export interface ThroughputFigures { requestsPerSecond: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number; total: number }
export interface DeliveryFigures {
  sent: number; received: number; postP99Ms: number; p50Ms: number; p99Ms: number; maxMs: number; non2xx: number;
  /** The load generator's own event-loop delay while posting (ms, p99). */
  clientLoopP99Ms: number;
  /** The load generator's CPU time over its posting time (1 = one core): what it takes from the server's machine. */
  clientCpuShare: number;
  /**
   * Events received over the time from the first send to the last receipt: below the rate asked for, the server
   * did not keep up (autocannon then simply sent less; the paced generator's queue, and its latency, grew instead).
   */
  deliveredPerSecond: number;
  generator: DeliveryGenerator;
  /**
   * The warm-up's latency (null without one): the same load over the first seconds, before the measured run, on a
   * server just started (code not yet optimised, every session's state read for the first time). Every other figure
   * is the measured run's.
   */
  coldStart: { seconds: number; p50Ms: number; p99Ms: number; maxMs: number } | null;
  arrivals: DeliveryArrival[];
}

// The server's delivery trace uses the same machine-wide monotonic clock, so its marks and these times compare.
const now = monotonicMs;
/** The client's event-loop delay sampling interval, ms. */
const LOOP_RESOLUTION_MS = 10;

/** Requests rotate over `paths` (one live session each) so no session goes over the per-session event limit. */
function rotating(paths: string[], body: (i: number) => string) {
  let i = 0;
  return [{
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request: { path?: string }) => {
      const n = i++;
      return { ...request, path: paths[n % paths.length], body: body(n) };
    },
  }];
}

async function throughput(job: Extract<LoadJob, { kind: 'throughput' }>): Promise<ThroughputFigures> {
  const result = await autocannon({
    url: job.url, connections: job.connections, duration: job.seconds, requests: rotating(job.paths, () => job.body),
  });
  return {
    requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99,
    non2xx: result.non2xx, errors: result.errors + result.timeouts, total: result.requests.total,
  };
}

/** GETs of one URL with the given headers (the authenticated-route bench). */
async function gets(job: Extract<LoadJob, { kind: 'get' }>): Promise<ThroughputFigures> {
  const result = await autocannon({ url: job.url, connections: job.connections, duration: job.seconds, headers: job.headers });
  return {
    requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99,
    non2xx: result.non2xx, errors: result.errors + result.timeouts, total: result.requests.total,
  };
}

/** Per-event times of the delivery run: when the POST was written and when its event came back on the socket. */
export interface DeliveryArrival { sentAt: number; receivedAt: number }

/**
 * `paced` (default): one POST every 1/rate s on a timer, whatever the answers (open loop), over up to 20 keep-alive
 * connections. `autocannon`: autocannon's overallRate, which lets each connection fire its share of the second
 * back to back at the start of each second (a 1,000-request burst every second, not a steady rate); kept to compare.
 */
export type DeliveryGenerator = 'paced' | 'autocannon';

/** Posts at a fixed rate, each event stamped with its send time; a socket of the same user measures arrival. */
async function delivery(job: Extract<LoadJob, { kind: 'delivery' }>): Promise<DeliveryFigures> {
  const socket = new WebSocket(job.socketUrl);
  const arrivals: DeliveryArrival[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const receivedAt = now();
      const message = JSON.parse(String(data)) as { type?: string; event?: { metadata?: { sent_at?: number } } };
      if (message.type === 'history') resolve();
      const sentAt = message.event?.metadata?.sent_at;
      if (message.type === 'posture' && typeof sentAt === 'number') arrivals.push({ sentAt, receivedAt });
    });
    socket.once('error', reject);
  });
  const template = JSON.parse(job.body) as Record<string, unknown>;
  const stamped = () => JSON.stringify({ ...template, metadata: { sent_at: now() } });
  // The client's own event-loop delay: if it is high, the client (not the server) made the latency.
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  let cpuBefore = process.cpuUsage();
  let measuredFrom = now();
  const measuring = () => {
    [cpuBefore, measuredFrom] = [process.cpuUsage(), now()];
    loop.enable();
    process.send!({ type: MEASURING });
  };
  const warmup = job.generator === 'autocannon' ? 0 : job.warmupSeconds ?? 0;
  const posted = job.generator === 'autocannon'
    ? (measuring(), await autocannonPosts(job, stamped))
    : await pacedPosts(job, stamped, warmup, measuring);
  loop.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const clientCpuShare = (cpu.user + cpu.system) / 1000 / (now() - measuredFrom);
  // Let the last events arrive.
  await new Promise((resolve) => setTimeout(resolve, 500));
  socket.close();
  const measured = arrivals.filter((a) => a.sentAt >= measuredFrom);
  const latencies = sortedLatencies(measured);
  const cold = sortedLatencies(arrivals.filter((a) => a.sentAt < measuredFrom));
  const span = (measured.reduce((last, a) => Math.max(last, a.receivedAt), -Infinity)
    - measured.reduce((first, a) => Math.min(first, a.sentAt), Infinity)) / 1000;
  return {
    deliveredPerSecond: measured.length / span,
    sent: posted.ok, received: latencies.length, postP99Ms: posted.p99Ms,
    p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), maxMs: latencies.at(-1) ?? NaN, non2xx: posted.non2xx,
    clientLoopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS), clientCpuShare, generator: job.generator ?? 'paced',
    coldStart: warmup > 0
      ? { seconds: warmup, p50Ms: percentile(cold, 0.5), p99Ms: percentile(cold, 0.99), maxMs: cold.at(-1) ?? NaN }
      : null,
    arrivals: measured,
  };
}

function sortedLatencies(arrivals: readonly DeliveryArrival[]): number[] {
  return arrivals.map((a) => a.receivedAt - a.sentAt).sort((a, b) => a - b);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

interface Posted { ok: number; non2xx: number; p99Ms: number }

async function autocannonPosts(job: Extract<LoadJob, { kind: 'delivery' }>, body: () => string): Promise<Posted> {
  const result = await autocannon({
    url: job.url, connections: 20, duration: job.seconds, overallRate: job.rate, requests: rotating(job.paths, body),
  });
  return { ok: result['2xx'], non2xx: result.non2xx, p99Ms: result.latency.p99 };
}

/**
 * Open loop: request i leaves at start + i/rate (to the timer's precision), answered or not. The first
 * `warmupSeconds` of requests go the same way on the same connections but are not counted; `measuring` is called
 * when the first counted one leaves.
 */
async function pacedPosts(job: Extract<LoadJob, { kind: 'delivery' }>, body: () => string, warmupSeconds: number,
  measuring: () => void): Promise<Posted> {
  const target = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20, noDelay: true });
  const warmupTotal = Math.round(warmupSeconds * job.rate);
  const total = warmupTotal + Math.round(job.seconds * job.rate);
  const postLatencies: number[] = [];
  let [sent, answered, ok, non2xx] = [0, 0, 0, 0];
  const start = now();
  await new Promise<void>((resolve, reject) => {
    const post = (i: number) => {
      const counted = i >= warmupTotal;
      if (i === warmupTotal) measuring();
      const payload = body();
      const began = now();
      const request = http.request({
        agent, host: target.hostname, port: target.port, method: 'POST', path: job.paths[i % job.paths.length],
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      }, (response) => {
        response.resume();
        response.once('end', () => {
          if (counted) {
            postLatencies.push(now() - began);
            if (response.statusCode! >= 200 && response.statusCode! < 300) ok += 1;
            else non2xx += 1;
          }
          if (++answered === total) resolve();
        });
      });
      request.once('error', reject);
      request.end(payload);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - start) * job.rate) / 1000) + 1);
      while (sent < due) post(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  postLatencies.sort((a, b) => a - b);
  return { ok, non2xx, p99Ms: percentile(postLatencies, 0.99) };
}

// Only as the forked load generator (runLoad): a process that imports this module for its types and constants (a test
// runner's worker has an IPC channel too) must not take its messages for jobs.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.once('message', (job: LoadJob) => {
    const run = job.kind === 'throughput' ? throughput(job) : job.kind === 'get' ? gets(job) : delivery(job);
    run.then((figures) => process.send!(figures, () => process.exit(0)), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}
