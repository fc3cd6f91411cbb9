// A pool of pose worker threads (default: one per core), each holding its own models. Inference never runs on the
// caller's event loop; pixel buffers are transferred, not copied. Implements the PoseEstimator port. The threads
// start on the first request and stop after an idle period, so a server that analyses nothing holds no TF.js
// runtime and no models; a thread loads a model on its first use of it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits, type WorkerOptions } from 'node:worker_threads';
import { assertServedModel, type EstimateOptions, type PeopleOptions, type PoseEstimator } from './pose-estimator.ts';
import type { Box, PersonCandidate, PoseResult, RgbImage } from './pose-types.ts';
import type { WorkerRequest, WorkerResponse, WorkerStats } from './worker-protocol.ts';

export interface WorkerPoolOptions {
  /** Public model names the pool serves (a worker loads one on its first use, or all of them through `ready()`). */
  models: string[];
  /** Number of threads (default: one per core). */
  size?: number;
  /** Requests queued inside one worker at a time (2 hides the message round-trip). */
  perWorker?: number;
  /**
   * Load the person locator in every worker up front (default false: a worker loads it on its first whole-image
   * search). Tracked video frames go to any worker; searches go to workers that already hold the locator unless
   * several searches are waiting, so a video analysed by N workers holds one locator, not N (~90 MB each).
   */
  preloadLocator?: boolean;
  /** V8 limits of each worker thread (default DEFAULT_WORKER_RESOURCE_LIMITS: a 4 MB young generation). */
  resourceLimits?: ResourceLimits;
  /** The threads stop after this long with nothing to do, and start again on the next request (default 0: never). */
  idleMs?: number;
}

interface Task {
  id: number;
  /** `people`: list everybody (the locator); `estimate`: one person's pose. */
  kind: 'estimate' | 'people';
  /** Needs the person locator (a people request, or a whole-image search: no track, no person, or the track was lost). */
  search: boolean;
  /** The crop's box (video). */
  track: Box | null;
  /** Handed back by a worker without the locator: goes to the locator worker as it is. */
  lost?: boolean;
  image: RgbImage;
  opts: EstimateOptions;
  resolve: (r: PoseResult | PersonCandidate[] | null) => void;
  reject: (e: Error) => void;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  inFlight: Map<number, Task>;
  stats: Map<number, (s: WorkerStats) => void>;
  /** This worker holds (or is loading) the person locator. */
  locator: boolean;
}

/**
 * V8 limits of each worker. The young generation is capped at 4 MB (V8's default lets it grow to ~48 MB per isolate):
 * TF.js allocates a stream of short-lived objects per inference, and with the default the scavenger kept each
 * worker's semi-spaces fully resident. Measured on a 60 s 1080p video with 2 workers: peak RSS of the node process
 * 572 → 502 MB (2 MB: 502, no better), same frames/s. The old generation is left unbounded (a too-low cap kills the
 * worker with an out-of-memory error).
 */
export const DEFAULT_WORKER_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };

export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Own, whole ArrayBuffer holding exactly the pixels (safe to transfer). */
function transferable(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) {
    return data.buffer;
  }
  return data.slice().buffer as ArrayBuffer;
}

export class WorkerPoolPoseEstimator implements PoseEstimator {
  /** The running threads: none before the first request and after an idle period. */
  private slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly perWorker: number;
  /** Threads started at once. */
  readonly size: number;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Threads being terminated after an idle period (a new request does not wait for them: it starts fresh ones). */
  private stopping: Promise<void> = Promise.resolve();
  private readonly stoppedWaiters: Array<() => void> = [];
  /** Milliseconds of pure inference, summed (for metrics and the benchmark). */
  inferenceMs = 0;
  /** Tracked frames handed back by a worker without the locator and searched again elsewhere. */
  retries = 0;
  /** Pixel buffers of finished `sequence` frames, for the decoder to refill (see pixelBuffer). */
  private readonly spare: ArrayBuffer[] = [];

  constructor(private readonly options: WorkerPoolOptions) {
    this.perWorker = Math.max(1, options.perWorker ?? 2);
    this.size = Math.max(1, options.size ?? os.availableParallelism());
  }

  /** Threads running now: 0 or `size`. */
  get threads(): number {
    return this.slots.length;
  }

  /** Requests accepted but not finished (queued + running). */
  get pending(): number {
    return this.queue.length + this.slots.reduce((n, s) => n + s.inFlight.size, 0);
  }

  /**
   * Starts the threads if they are not running, each loading every model now (benchmarks time inference, not
   * loading); resolves when they have (rejects when one failed to). Threads already started by a request load their
   * models on first use as before.
   */
  async ready(): Promise<void> {
    this.start(this.options.models);
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Resolves when the pool next holds no threads (at once when it holds none): after an idle period, or close. */
  stopped(): Promise<void> {
    if (this.slots.length === 0) return this.stopping;
    return new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }

  private start(preload: readonly string[]): void {
    if (this.closed || this.slots.length > 0) return;
    const slots = Array.from({ length: this.size }, () => this.spawn(preload));
    this.slots = slots;
    // The idle period counts from when the threads are up (loading is not idleness: `ready()` must find them).
    void Promise.allSettled(slots.map((s) => s.ready)).then(() => {
      if (this.slots === slots) this.armIdle();
    });
  }

  /** (Re)starts the idle countdown when nothing is queued or running. */
  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.options.idleMs || this.closed || this.slots.length === 0 || this.pending > 0) return;
    const timer = setTimeout(() => void this.stopIfIdle(timer), this.options.idleMs);
    timer.unref();
    this.idleTimer = timer;
  }

  private async stopIfIdle(timer: NodeJS.Timeout): Promise<void> {
    const slots = this.slots;
    // Threads still loading are let finish, so a `ready()` in progress settles.
    await Promise.allSettled(slots.map((s) => s.ready));
    // Any request since (or close) replaced the timer: the idle period starts again from its end.
    if (this.idleTimer !== timer || this.slots !== slots || this.pending > 0) return;
    // A stats request in hand re-arms the countdown when it is answered.
    if (slots.some((s) => s.stats.size > 0)) return;
    this.idleTimer = undefined;
    this.slots = [];
    this.spare.length = 0;
    this.stopping = Promise.all(slots.map((s) => s.worker.terminate())).then(() => undefined, () => undefined);
    await this.stopping;
    if (this.slots.length === 0) for (const resolve of this.stoppedWaiters.splice(0)) resolve();
  }

  models(): string[] {
    return [...this.options.models];
  }

  private spawn(preload: readonly string[]): Slot {
    const worker = startWorker(workerEntry(), {
      workerData: { models: preload, locator: this.options.preloadLocator === true },
      // The bootstrap registers tsx itself: an inherited `--import tsx` would register it a second time (~9 MB per
      // worker); debugger flags are not inherited either.
      execArgv: workerExecArgv(process.execArgv),
      resourceLimits: this.options.resourceLimits ?? DEFAULT_WORKER_RESOURCE_LIMITS,
    });
    const slot: Slot = { worker, ready: Promise.resolve(), inFlight: new Map(), stats: new Map(), locator: this.options.preloadLocator === true };
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (msg: WorkerResponse): void => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'fatal') reject(new Error(`pose worker failed to load models: ${msg.message}`));
        else this.onResult(slot, msg);
      };
      worker.on('message', onMessage);
      worker.once('error', (err) => {
        reject(err);
        this.onWorkerDeath(slot, err);
      });
      worker.once('exit', (code) => {
        if (!this.closed) this.onWorkerDeath(slot, new Error(`pose worker exited with code ${code}`));
      });
    });
    slot.ready.catch(() => undefined);
    return slot;
  }

  private onResult(slot: Slot, msg: WorkerResponse): void {
    if (msg.type === 'stats') {
      slot.stats.get(msg.id)?.(msg.stats);
      slot.stats.delete(msg.id);
      this.armIdle();
      return;
    }
    if (msg.type !== 'result' && msg.type !== 'error' && msg.type !== 'lost' && msg.type !== 'people') return;
    const task = slot.inFlight.get(msg.id);
    slot.inFlight.delete(msg.id);
    if (task && msg.type === 'lost') {
      // The tracked person was lost in a worker without the locator: search again where the locator is.
      if (msg.ms) this.inferenceMs += msg.ms;
      task.image = { ...task.image, data: new Uint8Array(msg.data) };
      task.search = true;
      task.lost = true;
      task.slot = undefined;
      this.retries++;
      this.queue.unshift(task);
    } else if (task) {
      if (msg.type === 'error') task.reject(new Error(msg.message));
      else if (msg.type === 'result' || msg.type === 'people') {
        if (msg.ms) this.inferenceMs += msg.ms;
        if (msg.data && task.opts.sequence) this.keepSpare(msg.data);
        task.resolve(msg.type === 'people' ? msg.people : msg.result);
      }
    }
    // Idle: nothing is decoding for this pool right now, so spare frame buffers are not kept.
    if (this.pending === 0) this.spare.length = 0;
    this.pump();
  }

  private onWorkerDeath(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    for (const task of slot.inFlight.values()) task.reject(err);
    slot.inFlight.clear();
    if (this.closed) return;
    // Replace the dead worker so one crash does not shrink the pool for good (its models load on first use).
    this.slots[i] = this.spawn([]);
    this.pump();
  }

  private keepSpare(buf: ArrayBuffer): void {
    this.spare.push(buf);
    // Enough for every frame in flight plus the one being decoded.
    const max = this.size * this.perWorker + 2;
    if (this.spare.length > max) this.spare.splice(0, this.spare.length - max);
  }

  /**
   * A pixel buffer handed back by a worker after a video frame (the same buffers cycle through decoder and workers
   * instead of ~2.7 MB allocated per frame and freed whenever each thread's GC gets to it), or undefined.
   */
  pixelBuffer(byteLength: number): Uint8Array | undefined {
    const i = this.spare.findIndex((b) => b.byteLength === byteLength);
    return i < 0 ? undefined : new Uint8Array(this.spare.splice(i, 1)[0]!);
  }

  /** Memory figures of every worker (tensors alive, WASM heap, JS heap, loaded models). */
  async stats(): Promise<WorkerStats[]> {
    await Promise.all(this.slots.map((s) => s.ready));
    return Promise.all(
      this.slots.map((s) => new Promise<WorkerStats>((resolve) => {
        const id = this.nextId++;
        s.stats.set(id, resolve);
        s.worker.postMessage({ type: 'stats', id } satisfies WorkerRequest);
      })),
    );
  }

  estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    const track = opts.track ?? null;
    const search = !track && !opts.person && opts.search !== false;
    return this.submit<PoseResult | null>('estimate', search, track, image, opts);
  }

  people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    return this.submit<PersonCandidate[]>('people', true, null, image, opts);
  }

  private submit<T>(kind: Task['kind'], search: boolean, track: Box | null, image: RgbImage, opts: EstimateOptions): Promise<T> {
    if (this.closed) return Promise.reject(new PoolClosedError('pose worker pool is closed'));
    assertServedModel(this, opts.model);
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    return new Promise<T>((resolveT, reject) => {
      const resolve = resolveT as (r: PoseResult | PersonCandidate[] | null) => void;
      const task: Task = { id: this.nextId++, kind, search, track, image, opts, resolve, reject };
      if (opts.signal) {
        const signal = opts.signal;
        const onAbort = (): void => {
          const q = this.queue.indexOf(task);
          if (q >= 0) this.queue.splice(q, 1);
          if (task.slot?.inFlight.delete(task.id)) task.slot.worker.postMessage({ type: 'cancel', id: task.id } satisfies WorkerRequest);
          reject(abortError(signal));
          this.armIdle();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        task.resolve = (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        };
        task.reject = (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        };
      }
      this.queue.push(task);
      // After an idle period the threads start afresh; the request waits in the queue until they are up.
      this.start([]);
      this.pump();
    });
  }

  /** The worker for `task`, or undefined when it should wait. */
  private pick(task: Task): Slot | undefined {
    let best: Slot | undefined;
    let bestLocator: Slot | undefined;
    for (const s of this.slots) {
      if (s.inFlight.size >= this.perWorker) continue;
      if (!best || s.inFlight.size < best.inFlight.size) best = s;
      if (s.locator && (!bestLocator || s.inFlight.size < bestLocator.inFlight.size)) bestLocator = s;
    }
    if (!task.search || !best) return best;
    if (bestLocator && bestLocator.inFlight.size <= best.inFlight.size) return bestLocator;
    const locators = this.slots.filter((s) => s.locator).length;
    // A video frame (or a tracked frame handed back as lost) waits for a locator worker: measured on a 60 s video,
    // the jumps where every frame in flight loses the person at once made the second worker load its own locator
    // (+70 MB RSS) for a handful of searches.
    if (task.opts.sequence && locators > 0) return bestLocator;
    // Only spread searches to a worker without the locator (it will load one) when more searches are waiting or
    // running than the locator workers can hold (a burst of photos): a video's occasional re-searches wait for the
    // locator worker instead.
    const searches = this.queue.filter((t) => t.search).length + this.slots.reduce((n, s) => n + [...s.inFlight.values()].filter((t) => t.search).length, 0);
    if (locators === 0 || searches > locators * this.perWorker) return best;
    return bestLocator;
  }

  private pump(): void {
    this.armIdle();
    for (let i = 0; i < this.queue.length; ) {
      const task = this.queue[i]!;
      const slot = this.pick(task);
      if (!slot) {
        // A waiting search must not hold up tracked frames behind it.
        if (!this.slots.some((s) => s.inFlight.size < this.perWorker)) return;
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      if (task.search) slot.locator = true;
      task.slot = slot;
      slot.inFlight.set(task.id, task);
      const data = transferable(task.image.data);
      const msg: WorkerRequest = task.kind === 'people'
        ? { type: 'people', id: task.id, width: task.image.width, height: task.image.height, data }
        : {
            type: 'estimate',
            id: task.id,
            model: task.opts.model,
            width: task.image.width,
            height: task.image.height,
            data,
            track: task.lost ? null : task.track,
            person: task.opts.person ?? null,
            search: task.opts.search,
            locate: slot.locator,
            sequence: task.opts.sequence === true,
          };
      slot.worker.postMessage(msg, [data]);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const task of this.queue.splice(0)) task.reject(new PoolClosedError('pose worker pool closed'));
    const slots = this.slots;
    this.slots = [];
    await Promise.all([
      this.stopping,
      ...slots.map(async (s) => {
        for (const task of s.inFlight.values()) task.reject(new PoolClosedError('pose worker pool closed'));
        s.inFlight.clear();
        await s.worker.terminate();
      }),
    ]);
    for (const resolve of this.stoppedWaiters.splice(0)) resolve();
  }
}

let entry: URL | undefined;

/**
 * The worker's entry. Running the TypeScript worker through tsx costs ~35 MB of RSS per worker thread (its loader
 * hooks and transformed sources; measured: 68 → 38 MB per idle worker), so the worker is bundled once per process
 * into plain JS with the esbuild binary that tsx installs (~30 ms; packages stay external, so it lives under
 * node_modules/.cache where they resolve; named by content hash, so processes and versions never clash). Where that
 * fails (no esbuild binary for this platform), the tsx bootstrap is used.
 */
export function workerEntry(): URL {
  entry ??= bundleWorker() ?? new URL('./pose-worker-bootstrap.mjs', import.meta.url);
  return entry;
}

function bundleWorker(): URL | undefined {
  if (process.env.POSTURA_POSE_WORKER_BUNDLE === '0') return undefined;
  try {
    const require = createRequire(import.meta.url);
    const esbuildMain = require.resolve('esbuild');
    const bin = createRequire(esbuildMain).resolve(`@esbuild/${process.platform}-${process.arch}/bin/esbuild`);
    const src = fileURLToPath(new URL('./pose.worker.ts', import.meta.url));
    // Packages stay external. Bundling TF.js in as well (its CommonJS builds need a `require`/`__dirname` banner) made
    // an idle worker 19 MB instead of 37 MB, but the 60 s video's peak only 489 vs 489–498 MB: not worth the hack.
    const code = execFileSync(bin, [src, '--bundle', '--platform=node', '--format=esm', '--packages=external', '--target=node20', '--log-level=error'],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    // Bare imports resolve from the bundle's folder upwards: the project's node_modules/.cache.
    const nodeModules = esbuildMain.slice(0, esbuildMain.lastIndexOf(`${path.sep}esbuild${path.sep}`));
    const dir = path.join(nodeModules, '.cache', 'postura');
    const file = path.join(dir, `pose-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    }
    return pathToFileURL(file);
  } catch {
    return undefined;
  }
}

/** Flags of the parent's command line that a worker thread refused (see startWorker). */
const refusedFlags = new Set<string>();

/**
 * `new Worker`, without the parent's process-wide flags: Node refuses V8 options (`--max-old-space-size`,
 * `--expose-gc`) and per-process ones (`--v8-pool-size`, `--title`) in a worker's execArgv, although they already
 * apply to every thread of the process. Node names the flags it refused; they are left out from then on.
 */
export function startWorker(url: URL, options: WorkerOptions & { execArgv: string[] }): Worker {
  const execArgv = options.execArgv.filter((a) => !refusedFlags.has(a));
  try {
    return new Worker(url, { ...options, execArgv });
  } catch (err) {
    const refused = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV'
      ? (err as Error).message.slice((err as Error).message.indexOf(':') + 1).split(', ').map((f) => f.trim()).filter((f) => execArgv.includes(f))
      : [];
    if (refused.length === 0) throw err;
    for (const f of refused) refusedFlags.add(f);
    return new Worker(url, { ...options, execArgv: execArgv.filter((a) => !refusedFlags.has(a)) });
  }
}

/** The parent's execArgv minus debugger flags and tsx registration (the worker bootstrap registers tsx). */
export function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--inspect')) continue;
    if ((a === '--import' || a === '--loader' || a === '--experimental-loader') && /^tsx(\/|$)/.test(argv[i + 1] ?? '')) {
      i++;
      continue;
    }
    if (/^--(import|loader|experimental-loader)=tsx(\/|$)/.test(a)) continue;
    out.push(a);
  }
  return out;
}

export function createPoseWorkerPool(options: WorkerPoolOptions): WorkerPoolPoseEstimator {
  return new WorkerPoolPoseEstimator(options);
}
