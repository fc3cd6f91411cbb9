// Idle memory (issue 16): the RSS of `postura serve` with nothing uploaded, started as `npm start` starts it (the web
// app built first, then package.json's start script, `node --v8-pool-size=1 bin/postura.js serve`, on the embedded
// defaults: PGlite, files on disk, no Redis), on a free port and a temp data dir. Measured twice on the same dir:
//   fresh    a brand-new data dir (first-time database setup and migrations happen in this process)
//   restart  the same dir after a clean stop (what a deployment sees on every start after the first)
// After /api/health answers, VmRSS of the server process is sampled from /proc every 250 ms until it has not grown by
// more than 1 MB for 3 s (bounded by maxWaitMs): that last sample is the idle figure. The RSS of child processes (tsx's
// esbuild service) is reported beside it, not in it. The goal is < 300 MB in both cases.
// With holdSeconds, sampling goes on until that long after /api/health and the RSS then is reported too: V8 shrinks
// its young generation and heap once it sees the process idle (its "memory reducer", typically 30-60 s in), which the
// settled figure comes too early to include.
// Run alone: `node --import tsx bench/idle.bench.ts [--runs=3] [--hold=60] [--env=NAME=value ...]`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const thisFile = fileURLToPath(import.meta.url);

export const IDLE_RSS_GOAL_MB = 300;

export interface IdleBenchOptions {
  /** Fresh + restart pairs, each on a new data dir; figures are the median over runs (default 1). */
  runs?: number;
  /** Sampling period (default 250 ms). */
  sampleMs?: number;
  /** RSS counts as stable after this long without growth beyond `growthMb` (default 3 s, 1 MB). */
  stableMs?: number;
  growthMb?: number;
  /** Give up waiting for stability after this long and report the last sample, flagged unstable (default 60 s). */
  maxWaitMs?: number;
  /** Keep sampling until this long after /api/health and report the RSS then as well (default 0: not measured). */
  holdSeconds?: number;
  /** Run `npm run build:web` first, as `npm start`'s prestart does (default true). */
  buildWeb?: boolean;
  /** Extra environment for the server (e.g. a setting under test); DATABASE_URL, REDIS_URL and S3 are left out. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface IdleSample {
  /** VmRSS of the server process once stable, MB (2^20 bytes). */
  rssMb: number;
  /** RSS of its child processes at the same moment, MB (not part of rssMb). */
  childrenMb: number;
  /** V8 heap in use, from /metrics, MB. */
  heapUsedMb: number;
  /** Spawn → /api/health 200, ms. */
  startMs: number;
  /** /api/health → stable, ms. */
  settleMs: number;
  /** False when maxWaitMs ran out first. */
  stable: boolean;
  /** RSS holdSeconds after /api/health, MB; null when not asked for. */
  heldRssMb: number | null;
  /** Load average (1, 5, 15 min) when the sample was taken. */
  loadavg: string;
}

export interface IdleBenchResult {
  fresh: IdleSample;
  restart: IdleSample;
  /** Every run's figures, in order. */
  runs: Array<{ fresh: IdleSample; restart: IdleSample }>;
  command: string;
  goalMb: number;
  /** heldRssMb is the RSS this long after /api/health (0: not measured). */
  holdSeconds: number;
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function descendants(pid: number): number[] {
  let direct: number[] = [];
  try {
    direct = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
  return direct.flatMap((child) => [child, ...descendants(child)]);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment `npm start` would see, on the embedded defaults: the server settings of this shell are left out. */
function serverEnv(dataDir: string, port: number, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(DATABASE_|REDIS_|S3_|STORAGE_|POSTGRES|PG[A-Z]+$)/.test(name)) delete env[name];
  }
  delete env.NODE_ENV;
  return { ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extra };
}

/**
 * The arguments `npm start` gives node (package.json's start script, e.g. `node bin/postura.js serve`), so the bench
 * measures what `npm start` runs, flags included.
 */
export function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.start ?? '').trim().split(/\s+/);
  if (words[0] !== 'node' || words.some((w) => /["'$&|;<>`]/.test(w))) {
    throw new Error(`npm start's script is not a plain "node ..." command: ${pkg.scripts?.start}`);
  }
  return words.slice(1);
}

/** One `postura serve` on `dataDir`: started, measured once idle, stopped with SIGTERM (it must exit 0). */
async function measureOnce(dataDir: string, options: Required<Omit<IdleBenchOptions, 'env' | 'log' | 'runs' | 'buildWeb'>> & { env: Record<string, string> }):
  Promise<IdleSample> {
  const port = await freePort();
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, startArgs(), {
    cwd: root, env: serverEnv(dataDir, port, options.env), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postura serve exited with ${child.exitCode}: ${stderr}`);
      if (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`postura serve not healthy after 180 s: ${stderr}`);
      await sleep(100);
    }
    const startMs = performance.now() - t0;
    const pid = child.pid!;
    const t1 = performance.now();
    let windowStart = t1;
    let base = rssKb(pid);
    let last = base;
    let stable = false;
    while (performance.now() - t1 < options.maxWaitMs) {
      await sleep(options.sampleMs);
      if (child.exitCode !== null) throw new Error(`postura serve exited with ${child.exitCode}: ${stderr}`);
      last = rssKb(pid);
      if (last > base + options.growthMb * 1024) {
        base = last;
        windowStart = performance.now();
      } else if (last < base) {
        base = last;
      }
      if (performance.now() - windowStart >= options.stableMs) {
        stable = true;
        break;
      }
    }
    const settleMs = performance.now() - t1;
    const childrenKb = descendants(pid).reduce((sum, p) => sum + rssKb(p), 0);
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text(), () => '');
    const heapUsed = Number(/^postura_nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN);
    const sample: IdleSample = {
      rssMb: last / 1024, childrenMb: childrenKb / 1024, heapUsedMb: heapUsed / 2 ** 20, startMs, settleMs, stable, heldRssMb: null,
      loadavg: loadavg(),
    };
    if (options.holdSeconds > 0) {
      const until = t1 + options.holdSeconds * 1000;
      while (performance.now() < until) {
        await sleep(Math.min(options.sampleMs * 4, until - performance.now()));
        if (child.exitCode !== null) throw new Error(`postura serve exited with ${child.exitCode}: ${stderr}`);
      }
      sample.heldRssMb = rssKb(pid) / 1024;
    }
    return sample;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`postura serve did not stop cleanly (exit ${code}): ${stderr}`);
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function medianSample(samples: IdleSample[]): IdleSample {
  const pick = (key: 'rssMb' | 'childrenMb' | 'heapUsedMb' | 'startMs' | 'settleMs') => median(samples.map((s) => s[key]));
  const held = samples.map((s) => s.heldRssMb).filter((v): v is number => v !== null);
  return {
    rssMb: pick('rssMb'), childrenMb: pick('childrenMb'), heapUsedMb: pick('heapUsedMb'), startMs: pick('startMs'), settleMs: pick('settleMs'),
    stable: samples.every((s) => s.stable), heldRssMb: held.length ? median(held) : null, loadavg: samples.at(-1)!.loadavg,
  };
}

const describe = (s: IdleSample, holdSeconds: number): string =>
  `RSS ${s.rssMb.toFixed(0)} MB (children ${s.childrenMb.toFixed(0)} MB, JS heap used ${s.heapUsedMb.toFixed(0)} MB; `
  + `healthy after ${(s.startMs / 1000).toFixed(1)} s, ${s.stable ? 'stable' : 'NOT stable'} after ${(s.settleMs / 1000).toFixed(1)} s; load ${s.loadavg})`
  + (s.heldRssMb === null ? '' : `; ${holdSeconds} s after health: RSS ${s.heldRssMb.toFixed(0)} MB`);

export async function runIdleBench(options: IdleBenchOptions = {}): Promise<IdleBenchResult> {
  const { runs = 1, buildWeb = true, log = console.log } = options;
  const measure = {
    sampleMs: options.sampleMs ?? 250, stableMs: options.stableMs ?? 3_000, growthMb: options.growthMb ?? 1,
    maxWaitMs: options.maxWaitMs ?? 60_000, holdSeconds: options.holdSeconds ?? 0, env: options.env ?? {},
  };
  if (buildWeb) {
    await promisify(execFile)(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:web'], { cwd: root });
  }
  const all: Array<{ fresh: IdleSample; restart: IdleSample }> = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-idle-'));
    try {
      const fresh = await measureOnce(dataDir, measure);
      log(`idle: fresh data dir:   ${describe(fresh, measure.holdSeconds)}`);
      const restart = await measureOnce(dataDir, measure);
      log(`idle: restart, same dir: ${describe(restart, measure.holdSeconds)}`);
      all.push({ fresh, restart });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return {
    fresh: medianSample(all.map((r) => r.fresh)),
    restart: medianSample(all.map((r) => r.restart)),
    runs: all,
    command: `npm run build:web && node ${startArgs().join(' ')} (DATA_DIR=<new temp dir>, embedded defaults)`,
    goalMb: IDLE_RSS_GOAL_MB,
    holdSeconds: measure.holdSeconds,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const env = Object.fromEntries(process.argv.filter((a) => a.startsWith('--env=')).map((a) => {
    const [k, ...v] = a.slice('--env='.length).split('=');
    return [k!, v.join('=')];
  }));
  runIdleBench({ runs: arg('runs') ? Number(arg('runs')) : undefined, holdSeconds: arg('hold') ? Number(arg('hold')) : undefined, env })
    .then((r) => {
      const held = (s: IdleSample) => (s.heldRssMb === null ? '' : ` (${s.heldRssMb.toFixed(0)} MB ${r.holdSeconds} s in)`);
      console.log(`fresh ${r.fresh.rssMb.toFixed(0)} MB${held(r.fresh)}, restart ${r.restart.rssMb.toFixed(0)} MB${held(r.restart)} `
        + `(goal < ${r.goalMb} MB; median of ${r.runs.length})`);
    }, (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
