// Load generator for bench/live.bench.ts, run as a child process so the server under test keeps its own core.
// Receives one job over IPC, answers with the figures, exits.
import autocannon from 'autocannon';
import { WebSocket } from 'ws';

export type LoadJob =
  | { kind: 'throughput'; url: string; paths: string[]; body: string; seconds: number; connections: number }
  | { kind: 'get'; url: string; headers: Record<string, string>; seconds: number; connections: number }
  | { kind: 'delivery'; url: string; paths: string[]; body: string; seconds: number; rate: number; socketUrl: string };

export interface ThroughputFigures { requestsPerSecond: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number; total: number }
export interface DeliveryFigures { sent: number; received: number; postP99Ms: number; p50Ms: number; p99Ms: number; maxMs: number; non2xx: number }

const now = () => performance.timeOrigin + performance.now();

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

/** Posts at a fixed rate, each event stamped with its send time; a socket of the same user measures arrival. */
async function delivery(job: Extract<LoadJob, { kind: 'delivery' }>): Promise<DeliveryFigures> {
  const socket = new WebSocket(job.socketUrl);
  const latencies: number[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type?: string; event?: { metadata?: { sent_at?: number } } };
      if (message.type === 'history') resolve();
      const sentAt = message.event?.metadata?.sent_at;
      if (message.type === 'posture' && typeof sentAt === 'number') latencies.push(now() - sentAt);
    });
    socket.once('error', reject);
  });
  const template = JSON.parse(job.body) as Record<string, unknown>;
  const result = await autocannon({
    url: job.url, connections: 20, duration: job.seconds, overallRate: job.rate,
    requests: rotating(job.paths, () => JSON.stringify({ ...template, metadata: { sent_at: now() } })),
  });
  // Let the last events arrive.
  await new Promise((resolve) => setTimeout(resolve, 500));
  socket.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    sent: result['2xx'], received: latencies.length, postP99Ms: result.latency.p99,
    p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: latencies.at(-1) ?? NaN, non2xx: result.non2xx,
  };
}

process.once('message', (job: LoadJob) => {
  const run = job.kind === 'throughput' ? throughput(job) : job.kind === 'get' ? gets(job) : delivery(job);
  run.then((figures) => process.send!(figures, () => process.exit(0)), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
