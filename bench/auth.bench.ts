// Authenticated-route benchmark (issue 16): GET /api/auth/me/ (token check, revocation, user row) against
// GET /api/health (no auth) in the same process and run, with the load generator in a child process so the server
// keeps a core of its own. The goal is me/health >= 0.5.
// Run alone: `node --import tsx bench/auth.bench.ts [--seconds=8] [--connections=16]`.
// Embedded (PGlite, in-process pub/sub) by default; DATABASE_URL / REDIS_URL switch to the real servers.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { benchConfig, openLiveAdapters, runLoad } from './live.bench.ts';
import type { ThroughputFigures } from './live-load.ts';

export interface AuthBenchResult {
  health: ThroughputFigures;
  me: ThroughputFigures;
  /** me requests/s ÷ health requests/s, measured in one run. */
  ratio: number;
}

export async function runAuthBench(options: { seconds?: number; connections?: number; log?: (line: string) => void } = {}):
  Promise<AuthBenchResult> {
  const { seconds = 8, connections = 16, log = console.log } = options;
  const { config, cleanup } = await benchConfig();
  const adapters = await openLiveAdapters(config);
  const app = await buildApp({ config, jwtSecret: config.auth.jwtSecret!, ...adapters });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const registered = await app.inject({
      method: 'POST', url: '/auth/register', payload: { email: 'bench-auth@example.com', name: 'Bench', password: 'bench-password-1' },
    });
    const { token } = registered.json() as { token: string };
    const headers = { authorization: `Bearer ${token}` };
    const me = await app.inject({ method: 'GET', url: '/api/auth/me/', headers });
    if (me.statusCode !== 200) throw new Error(`/api/auth/me/ answered ${me.statusCode}: ${me.body}`);
    const measure = (route: string, h: Record<string, string>, s: number) =>
      runLoad<ThroughputFigures>({ kind: 'get', url: `${url}${route}`, headers: h, seconds: s, connections });
    await measure('/api/health', {}, 2);
    await measure('/api/auth/me/', headers, 2);
    const health = await measure('/api/health', {}, seconds);
    const meFigures = await measure('/api/auth/me/', headers, seconds);
    const ratio = meFigures.requestsPerSecond / health.requestsPerSecond;
    log(`health ${health.requestsPerSecond.toFixed(0)} req/s (p99 ${health.p99Ms} ms); auth/me ${meFigures.requestsPerSecond.toFixed(0)} `
      + `req/s (p99 ${meFigures.p99Ms} ms, non-2xx ${meFigures.non2xx}); me/health ${ratio.toFixed(2)} (goal ≥ 0.5)`);
    return { health, me: meFigures, ratio };
  } finally {
    await app.close();
    await adapters.close();
    await cleanup();
  }
}

const thisFile = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  runAuthBench({ seconds: arg('seconds') ? Number(arg('seconds')) : undefined, connections: arg('connections') ? Number(arg('connections')) : undefined })
    .then((r) => console.log(JSON.stringify(r, null, 2)), (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
