// Upload benchmark (issue 5): POST /api/video/upload streaming a 1 GiB video through the real app (embedded PGlite
// and the disk object store in a temp DATA_DIR, no estimator so no analysis runs), against a plain file copy of the
// same bytes in the same run:
//  - upload MiB/s, copy MiB/s and their ratio;
//  - the server process's RSS while the upload streams: baseline (mean of the second before), peak sampled every
//    50 ms, and the kernel's exact peak (VmHWM, reset through /proc/self/clear_refs just before the upload); growth
//    = peak − baseline, goal < 64 MiB for 1 GiB.
// The client (bench/upload-client.ts) is a child process, so its memory and CPU are not the server's. The file is
// test/fixtures/sports2d_demo.mp4 followed by random padding, generated on the fly: the server sniffs and ffprobes
// a real MP4 header, the padding is never parsed. The copy is the same generator, chunk size and disk, written with
// fs.createWriteStream and fsync before close (as the store's put does): what remains between the two is HTTP,
// multipart parsing, the content check and the store.
// Run alone: `node --import tsx bench/upload.bench.ts [--mib=1024] [--small-mib=256] [--small-repeats=3]`.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { openAdapters } from '../src/infra/adapters.ts';
import type { ClientJob, ClientResult } from './upload-client.ts';

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '..');
const MiB = 1024 * 1024;
/** Goal of issue 5: RSS grows by less than this while a 1 GiB upload streams. */
export const RSS_GROWTH_GOAL_MIB = 64;

export interface UploadRun {
  mib: number;
  uploadMiBps: number;
  copyMiBps: number;
  /** upload / copy throughput. */
  ratio: number;
  status: number;
  baselineRssMiB: number;
  /** Highest 50 ms sample, and the kernel's high-water mark (null where /proc/self/clear_refs is not writable). */
  peakRssMiB: number;
  peakHwmMiB: number | null;
  /** max(peak sample, high-water mark) − baseline. */
  growthMiB: number;
  /** RSS one second after the answer (and the delete of the upload): what the process kept. */
  afterRssMiB: number;
  samples: number;
  /** Server process CPU (user + system) per GiB uploaded, seconds; ffprobe's own CPU not included. */
  serverCpuSecondsPerGiB: number;
  load: string;
}

export interface UploadBenchResult {
  chunkBytes: number;
  runs: UploadRun[];
  /** The 1 GiB run (or the largest). */
  main: UploadRun;
  /** Median ratio over the small runs, when there were any. */
  smallMedianRatio: number | null;
  goals: Array<{ goal: string; value: string; met: boolean }>;
}

export interface UploadBenchOptions {
  /** Size of the main upload (default 1024 MiB). */
  mib?: number;
  /** Smaller uploads repeated for noise (default 256 MiB × 3; 0 repeats to skip). */
  smallMib?: number;
  smallRepeats?: number;
  chunkBytes?: number;
  log?: (line: string) => void;
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function hwmKb(): number | null {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) || null;
  } catch {
    return null;
  }
}

/** Resets the kernel's peak-RSS counter of this process to its current RSS; false where that is not allowed. */
function resetHwm(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

class Client {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(fileURLToPath(new URL('./upload-client.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  run(job: ClientJob): Promise<ClientResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`upload client exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (result) => {
        this.child.removeListener('exit', onExit);
        const r = result as ClientResult;
        if (r.error) reject(new Error(`upload client: ${r.error}`));
        else resolve(r);
      });
      this.child.send(job);
    });
  }
  close(): void {
    this.child.disconnect();
  }
}

export async function runUploadBench(options: UploadBenchOptions = {}): Promise<UploadBenchResult> {
  const { mib = 1024, smallMib = 256, smallRepeats = 3, chunkBytes = 64 * 1024, log = console.log } = options;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postura-bench-upload-'));
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig(
    { NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: secret, DATA_DIR: dataDir },
    { uploads: { maxFileBytes: Math.max(mib, smallMib) * MiB + 64 * MiB } },
  );
  const rss = () => `${(process.memoryUsage.rss() / MiB).toFixed(0)} MiB`;
  const rssAtStart = rss();
  const adapters = await openAdapters(config, secret);
  const rssAdapters = rss();
  const app = await buildApp({ config, jwtSecret: secret, ...adapters });
  const client = new Client();
  const fixture = path.join(repoRoot, 'test/fixtures/sports2d_demo.mp4');
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const registered = await fetch(`${url}/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `bench-${randomBytes(4).toString('hex')}@example.com`, name: 'Bench', password: 'bench-password-1' }),
    });
    if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
    const { token } = await registered.json() as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    let sessions = 0;

    const uploadOnce = async (bytes: number): Promise<{ result: ClientResult; sessionId: string }> => {
      const sessionId = `bench-${++sessions}-${randomBytes(3).toString('hex')}`;
      const result = await client.run({ kind: 'upload', url, token, sessionId, bytes, fixture, chunkBytes });
      if (result.status !== 201) throw new Error(`upload answered ${result.status}, not 201: ${result.body}`);
      return { result, sessionId };
    };
    const forget = async (sessionId: string) => {
      const r = await fetch(`${url}/api/video/delete/multiview`, { method: 'POST', headers: auth, body: JSON.stringify({ session_id: sessionId }) });
      if (r.status !== 200) throw new Error(`delete answered ${r.status}: ${await r.text()}`);
    };

    // Warm-up: every code path of an upload (multipart, sniff, ffprobe, store, commit) runs once before measuring.
    const rssListening = rss();
    await forget((await uploadOnce(16 * MiB)).sessionId);
    await forget((await uploadOnce(16 * MiB)).sessionId);
    log(`upload bench server RSS: ${rssAtStart} at start, ${rssAdapters} with PGlite + pg-boss + store open, `
      + `${rssListening} listening with a user registered, ${rss()} after two 16 MiB warm-up uploads`);

    const measure = async (runMib: number): Promise<UploadRun> => {
      const bytes = runMib * MiB;
      const copy = await client.run({ kind: 'copy', path: path.join(dataDir, `copy-${randomBytes(4).toString('hex')}.bin`), bytes, fixture, chunkBytes });
      // Baseline: the mean of this process's RSS over the second before the upload.
      const before: number[] = [];
      for (let i = 0; i < 20; i++) {
        before.push(process.memoryUsage.rss());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const baseline = before.reduce((a, b) => a + b, 0) / before.length;
      const load = loadavg();
      let peak = 0;
      let samples = 0;
      const hwmReset = resetHwm();
      const cpu0 = process.cpuUsage();
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
        samples++;
      }, 50);
      let uploaded: { result: ClientResult; sessionId: string };
      try {
        uploaded = await uploadOnce(bytes);
      } finally {
        clearInterval(timer);
      }
      const cpu = process.cpuUsage(cpu0);
      const hwm = hwmReset ? hwmKb() : null;
      peak = Math.max(peak, process.memoryUsage.rss());
      await forget(uploaded.sessionId);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = process.memoryUsage.rss();
      const uploadMiBps = runMib / (uploaded.result.ms / 1000);
      const copyMiBps = runMib / (copy.ms / 1000);
      const peakHwmMiB = hwm === null ? null : hwm / 1024;
      const run: UploadRun = {
        mib: runMib, uploadMiBps, copyMiBps, ratio: uploadMiBps / copyMiBps, status: uploaded.result.status!,
        baselineRssMiB: baseline / MiB, peakRssMiB: peak / MiB, peakHwmMiB,
        growthMiB: (Math.max(peak / MiB, peakHwmMiB ?? 0)) - baseline / MiB, afterRssMiB: after / MiB, samples,
        serverCpuSecondsPerGiB: (cpu.user + cpu.system) / 1e6 / (runMib / 1024), load,
      };
      log(`upload ${runMib} MiB: ${uploadMiBps.toFixed(0)} MiB/s vs copy ${copyMiBps.toFixed(0)} MiB/s, ratio ${run.ratio.toFixed(2)}; `
        + `server RSS baseline ${run.baselineRssMiB.toFixed(0)} MiB, peak ${run.peakRssMiB.toFixed(0)} MiB (${samples} samples)`
        + `${peakHwmMiB === null ? '' : `, high-water ${peakHwmMiB.toFixed(0)} MiB`}, growth ${run.growthMiB.toFixed(1)} MiB, `
        + `${run.afterRssMiB.toFixed(0)} MiB 1 s after; `
        + `server CPU ${run.serverCpuSecondsPerGiB.toFixed(2)} s/GiB (load ${load})`);
      return run;
    };

    const runs: UploadRun[] = [];
    runs.push(await measure(mib));
    for (let i = 0; i < smallRepeats; i++) runs.push(await measure(smallMib));
    const main = runs[0]!;
    const small = runs.slice(1);
    const smallMedianRatio = small.length ? median(small.map((r) => r.ratio)) : null;
    if (small.length) {
      log(`upload ${smallMib} MiB × ${small.length}: median ratio ${smallMedianRatio!.toFixed(2)} `
        + `(${small.map((r) => r.ratio.toFixed(2)).join(', ')}), max growth ${Math.max(...small.map((r) => r.growthMiB)).toFixed(1)} MiB`);
    }
    const goals: UploadBenchResult['goals'] = [
      { goal: `RSS growth < ${RSS_GROWTH_GOAL_MIB} MiB during a ${main.mib} MiB upload`, value: `${main.growthMiB.toFixed(1)} MiB`, met: main.growthMiB < RSS_GROWTH_GOAL_MIB },
      { goal: `upload answers 201 (${main.mib} MiB)`, value: String(main.status), met: main.status === 201 },
    ];
    return { chunkBytes, runs, main, smallMedianRatio, goals };
  } finally {
    client.close();
    await app.close();
    await adapters.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  runUploadBench({ mib: num('mib'), smallMib: num('small-mib'), smallRepeats: num('small-repeats') })
    .then((result) => console.log(JSON.stringify(result, null, 2)), (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
