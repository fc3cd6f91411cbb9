// Mixed load ("soak"): live events, image uploads (analysed by the server's own inference threads) and reads,
// against a real `postura serve` child process on its embedded defaults (or DATABASE_URL / REDIS_URL when set).
//  1. capacity: the mix runs closed-loop (each virtual client sends its next request when the last one answered)
//     for a short while; completed requests per second is the mix's capacity on this machine.
//  2. soak: the same mix open-loop at `share` (default 80 %) of that capacity for `seconds` (default 300), while
//     the server's RSS is sampled every second from /proc.
//  3. drain: every uploaded analysis must complete; every acknowledged event must be readable back.
// An error is any unexpected status, a network error, a request slower than 10 s, or a backlog the server cannot
// absorb (more than `maxOutstanding` requests waiting at once).
// Run: `node --import tsx bench/soak.bench.ts [--seconds=300] [--capacity-seconds=20] [--share=0.8]`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { eventBody } from './live.bench.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface SoakOptions {
  /** Length of the open-loop phase. */
  seconds?: number;
  /** Length of the closed-loop capacity phase. */
  capacitySeconds?: number;
  /** Share of the measured capacity the soak runs at. */
  share?: number;
  /** Virtual clients of the capacity phase. */
  connections?: number;
  log?: (line: string) => void;
}

export interface OpFigures { count: number; errors: number; p50Ms: number; p99Ms: number }

export interface SoakResult {
  database: string;
  capacity: { requestsPerSecond: number; errors: number };
  soak: {
    targetPerSecond: number;
    achievedPerSecond: number;
    seconds: number;
    errors: number;
    /** First few error descriptions, for the log. */
    errorSamples: string[];
    ops: Record<OpKind, OpFigures>;
  };
  analyses: { uploaded: number; completed: number; failed: number; p50Seconds: number; maxSeconds: number };
  events: { acknowledged: number; readBack: number };
  memory: {
    /** Server RSS (MB) after the capacity phase, at the soak's middle and at its end; highest sample. */
    startMb: number;
    midMb: number;
    endMb: number;
    peakMb: number;
    /** Least-squares slope of RSS over the soak's second half, MB per minute. */
    slopeMbPerMinute: number;
    /** The JS heap in use (from /metrics) at the same three moments, and its second-half slope: a leak of
     *  JavaScript objects shows here; RSS also holds PGlite's WASM memory, which grows with its caches. */
    heapStartMb: number;
    heapMidMb: number;
    heapEndMb: number;
    heapSlopeMbPerMinute: number;
  };
}

type OpKind = 'event' | 'read' | 'upload';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The mix, spread evenly: of every 2,000 requests one is an image upload (a real analysis follows it: at ~350
 * requests/s that is about half of what one analysis thread gets through beside the API), a quarter are reads and
 * the rest live events. The first upload comes early, so even a short run has one.
 */
function pickOp(n: number): OpKind {
  if (n % 2_000 === 17) return 'upload';
  return n % 4 === 3 ? 'read' : 'event';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function heapMb(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text(), () => '');
  return Number(/^postura_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? 0) / 2 ** 20;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function slopePerMinute(samples: Array<{ t: number; mb: number }>): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const mm = samples.reduce((a, s) => a + s.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - mt) * (s.mb - mm);
    den += (s.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

/** `postura serve` on a temp data dir; resolves once /api/ready answers 200. */
async function startServer(log: (line: string) => void): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-soak-'));
  const port = await freePort();
  // On a shared PostgreSQL the run gets schemas of its own, dropped afterwards.
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const schema = databaseUrl ? `soak_${randomBytes(6).toString('hex')}` : undefined;
  const child = spawn(process.execPath, [path.join(root, 'bin/postura.js'), 'serve'], {
    cwd: root,
    env: {
      ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'), NODE_ENV: 'development', ANALYSIS_CONCURRENCY: '1',
      // A few accounts stand for many clients here: the per-account ceilings would measure themselves, not capacity.
      LIVE_OPEN_SESSIONS_PER_USER: '10000', LIVE_EVENTS_PER_DAY_PER_USER: '100000000', UPLOAD_CONCURRENCY_PER_USER: '64',
      ...(schema ? { DATABASE_SCHEMA: schema } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postura serve exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}/api/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`postura serve not ready after 120 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log(`soak: server pid ${child.pid} ready at ${url} (data in a temp dir${process.env.DATABASE_URL ? ', PostgreSQL' : ', PGlite'})`);
  return {
    child, url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
      if (databaseUrl && schema) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.query(`DROP SCHEMA IF EXISTS ${schema}_boss CASCADE`);
        await client.end();
      }
    },
  };
}

interface Actor {
  token: string;
  sessions: string[];
}

class MixedClient {
  private n = 0;
  private eventCount = 0;
  readonly acknowledged = new Map<string, number>();
  readonly uploads: Array<{ token: string; id: string; at: number }> = [];
  readonly latencies: Record<OpKind, number[]> = { event: [], read: [], upload: [] };
  readonly errors: Record<OpKind, number> = { event: 0, read: 0, upload: 0 };
  readonly errorSamples: string[] = [];
  private readonly sessions: string[];

  constructor(private readonly url: string, private readonly actors: Actor[], private readonly image: Buffer,
    private readonly eventBody: string) {
    this.sessions = actors.flatMap((a) => a.sessions);
  }

  private fail(kind: OpKind, what: string): void {
    this.errors[kind]++;
    if (this.errorSamples.length < 10) this.errorSamples.push(`${kind}: ${what}`);
  }

  /** One request of the mix; never throws (failures are counted). */
  async next(): Promise<void> {
    const n = this.n++;
    const kind = pickOp(n);
    const actor = this.actors[n % this.actors.length]!;
    const started = performance.now();
    try {
      const response = await this.send(kind, actor, n);
      const elapsed = performance.now() - started;
      if (!response.ok) this.fail(kind, `${response.status} ${response.body.slice(0, 200)}`);
      else if (elapsed > REQUEST_TIMEOUT_MS) this.fail(kind, `took ${elapsed.toFixed(0)} ms`);
      else this.latencies[kind].push(elapsed);
    } catch (error) {
      this.fail(kind, String(error));
    }
  }

  private async send(kind: OpKind, actor: Actor, n: number): Promise<{ ok: boolean; status: number; body: string }> {
    const auth = { authorization: `Bearer ${actor.token}` };
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS * 2);
    if (kind === 'event') {
      // Events rotate over every session of every actor: each session stays far below 10 events per second.
      const session = this.sessions[this.eventCount++ % this.sessions.length]!;
      const r = await fetch(`${this.url}/api/sessions/${session}/event/`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: this.eventBody, signal,
      });
      const body = await r.text();
      if (r.status === 201) this.acknowledged.set(session, (this.acknowledged.get(session) ?? 0) + 1);
      return { ok: r.status === 201, status: r.status, body };
    }
    if (kind === 'upload') {
      const form = new FormData();
      form.set('session_id', `soak-${randomUUID().slice(0, 18)}`);
      form.set('front', new Blob([this.image], { type: 'image/jpeg' }), 'person.jpg');
      const r = await fetch(`${this.url}/api/video/upload`, { method: 'POST', headers: auth, body: form, signal });
      const body = await r.text();
      if (r.status === 201) this.uploads.push({ token: actor.token, id: (JSON.parse(body) as { analysis_id: string }).analysis_id, at: performance.now() });
      return { ok: r.status === 201, status: r.status, body };
    }
    const reads = [
      () => `/api/sessions/${actor.sessions[n % actor.sessions.length]}/events/?limit=20`,
      () => '/api/users/me/sessions/?limit=20',
      () => '/api/analysis/list',
      () => '/auth/profile',
    ];
    const r = await fetch(`${this.url}${reads[n % reads.length]!()}`, { headers: auth, signal });
    const body = await r.text();
    return { ok: r.status === 200, status: r.status, body };
  }

  reset(): void {
    for (const kind of Object.keys(this.latencies) as OpKind[]) {
      this.latencies[kind] = [];
      this.errors[kind] = 0;
    }
    this.errorSamples.length = 0;
  }
}

async function makeActors(url: string, users: number, sessionsPerUser: number): Promise<Actor[]> {
  const actors: Actor[] = [];
  for (let i = 0; i < users; i++) {
    const r = await fetch(`${url}/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `soak-${randomUUID()}@example.com`, name: `Soak ${i}`, password: 'soak-password-1' }),
    });
    if (r.status !== 201) throw new Error(`register: ${r.status} ${await r.text()}`);
    const { token } = (await r.json()) as { token: string };
    const sessions: string[] = [];
    for (let s = 0; s < sessionsPerUser; s++) {
      const started = await fetch(`${url}/api/sessions/start/`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}',
      });
      if (started.status !== 201) throw new Error(`session start: ${started.status} ${await started.text()}`);
      sessions.push(((await started.json()) as { session_id: string }).session_id);
    }
    actors.push({ token, sessions });
  }
  return actors;
}

function figures(client: MixedClient): Record<OpKind, OpFigures> {
  const out = {} as Record<OpKind, OpFigures>;
  for (const kind of ['event', 'read', 'upload'] as OpKind[]) {
    const sorted = [...client.latencies[kind]].sort((a, b) => a - b);
    out[kind] = {
      count: sorted.length, errors: client.errors[kind],
      p50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10, p99Ms: Math.round(percentile(sorted, 0.99) * 10) / 10,
    };
  }
  return out;
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const { seconds = 300, capacitySeconds = 20, share = 0.8, connections = 16, log = console.log } = options;
  const image = await readFile(path.join(root, 'test/fixtures/coco_000000000785.jpg'));
  const server = await startServer(log);
  const pid = server.child.pid!;
  try {
    // 400 sessions: at 1,000 events/s each one gets ~2.5 per second, under the limit of 10.
    const actors = await makeActors(server.url, 8, 50);
    const client = new MixedClient(server.url, actors, image, eventBody());

    // 1. Capacity, closed loop.
    const capacityEnd = performance.now() + capacitySeconds * 1000;
    let completed = 0;
    await Promise.all(Array.from({ length: connections }, async () => {
      while (performance.now() < capacityEnd) {
        await client.next();
        completed++;
      }
    }));
    const capacityErrors = Object.values(client.errors).reduce((a, b) => a + b, 0);
    const capacity = completed / capacitySeconds;
    log(`soak capacity (closed loop, ${connections} clients, ${capacitySeconds} s): ${capacity.toFixed(0)} requests/s, ${capacityErrors} errors`);
    client.reset();

    // 2. Soak, open loop at `share` of capacity; RSS every second.
    const target = capacity * share;
    const maxOutstanding = Math.max(200, Math.ceil(target * 2));
    const samples: Array<{ t: number; mb: number }> = [];
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let outstanding = 0;
    let sent = 0;
    let overloaded = 0;
    const inFlight = new Set<Promise<void>>();
    samples.push({ t: 0, mb: rssMb(pid) });
    const heap: Array<{ t: number; mb: number }> = [{ t: 0, mb: await heapMb(server.url) }];
    let nextSample = t0 + 1000;
    while (performance.now() < end) {
      const now = performance.now();
      const due = Math.floor(((now - t0) / 1000) * target);
      while (sent < due) {
        sent++;
        if (outstanding >= maxOutstanding) {
          overloaded++;
          continue;
        }
        outstanding++;
        const p = client.next().finally(() => {
          outstanding--;
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (now >= nextSample) {
        samples.push({ t: now - t0, mb: rssMb(pid) });
        if (samples.length % 5 === 0) void heapMb(server.url).then((mb) => heap.push({ t: now - t0, mb }));
        nextSample += 1000;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(inFlight);
    const elapsed = (performance.now() - t0) / 1000;
    samples.push({ t: performance.now() - t0, mb: rssMb(pid) });
    heap.push({ t: performance.now() - t0, mb: await heapMb(server.url) });
    const ops = figures(client);
    const soakErrors = Object.values(client.errors).reduce((a, b) => a + b, 0) + overloaded;
    if (overloaded > 0) client.errorSamples.push(`${overloaded} requests not sent: ${maxOutstanding} already waiting`);
    const done = Object.values(ops).reduce((a, o) => a + o.count, 0);
    log(`soak (${seconds} s at ${target.toFixed(0)} requests/s = ${share} × capacity): ${(done / elapsed).toFixed(0)} answered/s, `
      + `${soakErrors} errors; event p50/p99 ${ops.event.p50Ms}/${ops.event.p99Ms} ms, read ${ops.read.p50Ms}/${ops.read.p99Ms} ms, `
      + `upload ${ops.upload.p50Ms}/${ops.upload.p99Ms} ms (${ops.upload.count} uploads)`);

    // 3. Drain: every analysis completes, every acknowledged event reads back.
    const analysisSeconds: number[] = [];
    let failed = 0;
    const drainDeadline = performance.now() + 300_000;
    for (const upload of client.uploads) {
      for (;;) {
        const r = await fetch(`${server.url}/api/analysis/${upload.id}`, { headers: { authorization: `Bearer ${upload.token}` } });
        const body = (await r.json()) as { status?: string; updated_at?: string; error?: string };
        if (body.status === 'completed' || body.status === 'failed') {
          if (body.status === 'failed') {
            failed++;
            client.errorSamples.push(`analysis ${upload.id} failed: ${body.error}`);
          }
          analysisSeconds.push((performance.now() - upload.at) / 1000);
          break;
        }
        if (performance.now() > drainDeadline) throw new Error(`analysis ${upload.id} still ${body.status} after the drain`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    analysisSeconds.sort((a, b) => a - b);
    let readBack = 0;
    for (const actor of actors) {
      for (const session of actor.sessions) {
        let afterId = 0;
        for (;;) {
          const r = await fetch(`${server.url}/api/sessions/${session}/events/?after_id=${afterId}&limit=1000`,
            { headers: { authorization: `Bearer ${actor.token}` } });
          const page = (await r.json()) as Array<{ id: number }>;
          readBack += page.length;
          if (page.length < 1000) break;
          afterId = page.at(-1)!.id;
        }
      }
    }
    const acknowledged = [...client.acknowledged.values()].reduce((a, b) => a + b, 0);

    const secondHalf = (list: Array<{ t: number; mb: number }>) => list.filter((x) => x.t >= (seconds * 1000) / 2);
    const middle = (list: Array<{ t: number; mb: number }>) => list[Math.floor(list.length / 2)]!.mb;
    const round = (x: number) => Math.round(x * 10) / 10;
    heap.sort((a, b) => a.t - b.t);
    const memory = {
      startMb: Math.round(samples[0]!.mb), midMb: Math.round(middle(samples)), endMb: Math.round(samples.at(-1)!.mb),
      peakMb: Math.round(Math.max(...samples.map((x) => x.mb))),
      slopeMbPerMinute: round(slopePerMinute(secondHalf(samples))),
      heapStartMb: Math.round(heap[0]!.mb), heapMidMb: Math.round(middle(heap)), heapEndMb: Math.round(heap.at(-1)!.mb),
      heapSlopeMbPerMinute: round(slopePerMinute(secondHalf(heap))),
    };
    log(`soak memory: RSS ${memory.startMb} → ${memory.midMb} → ${memory.endMb} MB (peak ${memory.peakMb}), `
      + `second-half slope ${memory.slopeMbPerMinute} MB/min; JS heap ${memory.heapStartMb} → ${memory.heapMidMb} → `
      + `${memory.heapEndMb} MB, slope ${memory.heapSlopeMbPerMinute} MB/min`);
    log(`soak drain: ${client.uploads.length} analyses, ${failed} failed, upload → done p50 ${percentile(analysisSeconds, 0.5).toFixed(1)} s, `
      + `max ${(analysisSeconds.at(-1) ?? 0).toFixed(1)} s; events acknowledged ${acknowledged}, read back ${readBack}`);
    for (const line of client.errorSamples) log(`soak error: ${line}`);

    return {
      database: process.env.DATABASE_URL ? 'postgres' : 'pglite',
      capacity: { requestsPerSecond: Math.round(capacity), errors: capacityErrors },
      soak: {
        targetPerSecond: Math.round(target), achievedPerSecond: Math.round(done / elapsed), seconds, errors: soakErrors,
        errorSamples: [...client.errorSamples], ops,
      },
      analyses: {
        uploaded: client.uploads.length, completed: analysisSeconds.length - failed, failed,
        p50Seconds: Math.round(percentile(analysisSeconds, 0.5) * 10) / 10,
        maxSeconds: Math.round((analysisSeconds.at(-1) ?? 0) * 10) / 10,
      },
      events: { acknowledged, readBack },
      memory,
    };
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  runSoak({
    seconds: arg('seconds') ? Number(arg('seconds')) : undefined,
    capacitySeconds: arg('capacity-seconds') ? Number(arg('capacity-seconds')) : undefined,
    share: arg('share') ? Number(arg('share')) : undefined,
  }).then((result) => console.log(JSON.stringify(result, null, 2)), (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
