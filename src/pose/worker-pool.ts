// A pool of pose worker threads (default: one per core), each holding its own models. Inference never runs on the
// caller's event loop; pixel buffers are transferred, not copied. Implements the PoseEstimator port.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { assertServedModel, type EstimateOptions, type PoseEstimator } from './pose-estimator.ts';
import type { PoseResult, RgbImage } from './pose-types.ts';
import type { WorkerRequest, WorkerResponse, WorkerStats } from './worker-protocol.ts';

export interface WorkerPoolOptions {
  /** Public model names every worker loads. */
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
}

interface Task {
  id: number;
  /** Needs a whole-image search (no track, or the track was lost). */
  search: boolean;
  image: RgbImage;
  opts: EstimateOptions;
  resolve: (r: PoseResult | null) => void;
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
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly perWorker: number;
  /** Milliseconds of pure inference, summed (for metrics and the benchmark). */
  inferenceMs = 0;
  /** Tracked frames handed back by a worker without the locator and searched again elsewhere. */
  retries = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    this.perWorker = Math.max(1, options.perWorker ?? 2);
    const size = Math.max(1, options.size ?? os.availableParallelism());
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Requests accepted but not finished (queued + running). */
  get pending(): number {
    return this.queue.length + this.slots.reduce((n, s) => n + s.inFlight.size, 0);
  }

  /** Resolves when every worker has loaded its models (rejects when one failed to). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  models(): string[] {
    return [...this.options.models];
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./pose-worker-bootstrap.mjs', import.meta.url), {
      workerData: { models: this.options.models, locator: this.options.preloadLocator === true },
      // The bootstrap registers tsx itself: an inherited `--import tsx` would register it a second time (~9 MB per
      // worker); debugger flags are not inherited either.
      execArgv: workerExecArgv(process.execArgv),
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
      return;
    }
    if (msg.type !== 'result' && msg.type !== 'error' && msg.type !== 'lost') return;
    const task = slot.inFlight.get(msg.id);
    slot.inFlight.delete(msg.id);
    if (task && msg.type === 'lost') {
      // The tracked person was lost in a worker without the locator: search again where the locator is.
      if (msg.ms) this.inferenceMs += msg.ms;
      task.image = { ...task.image, data: new Uint8Array(msg.data) };
      task.search = true;
      task.slot = undefined;
      this.retries++;
      this.queue.unshift(task);
    } else if (task) {
      if (msg.type === 'error') task.reject(new Error(msg.message));
      else if (msg.type === 'result') {
        if (msg.ms) this.inferenceMs += msg.ms;
        task.resolve(msg.result);
      }
    }
    this.pump();
  }

  private onWorkerDeath(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    for (const task of slot.inFlight.values()) task.reject(err);
    slot.inFlight.clear();
    if (this.closed) return;
    // Replace the dead worker so one crash does not shrink the pool for good.
    this.slots[i] = this.spawn();
    this.pump();
  }

  /** Memory figures of every worker (tensors alive, WASM heap, JS heap, loaded models). */
  async stats(): Promise<WorkerStats[]> {
    await this.ready();
    return Promise.all(
      this.slots.map((s) => new Promise<WorkerStats>((resolve) => {
        const id = this.nextId++;
        s.stats.set(id, resolve);
        s.worker.postMessage({ type: 'stats', id } satisfies WorkerRequest);
      })),
    );
  }

  estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    if (this.closed) return Promise.reject(new PoolClosedError('pose worker pool is closed'));
    assertServedModel(this, opts.model);
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    return new Promise<PoseResult | null>((resolve, reject) => {
      const task: Task = { id: this.nextId++, search: !opts.track, image, opts, resolve, reject };
      if (opts.signal) {
        const signal = opts.signal;
        const onAbort = (): void => {
          const q = this.queue.indexOf(task);
          if (q >= 0) this.queue.splice(q, 1);
          if (task.slot?.inFlight.delete(task.id)) task.slot.worker.postMessage({ type: 'cancel', id: task.id } satisfies WorkerRequest);
          reject(abortError(signal));
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
    // Only spread searches to a worker without the locator (it will load one) when more searches are waiting or
    // running than the locator workers can hold (a burst of photos): a video's occasional re-searches wait for the
    // locator worker instead.
    const locators = this.slots.filter((s) => s.locator).length;
    const searches = this.queue.filter((t) => t.search).length + this.slots.reduce((n, s) => n + [...s.inFlight.values()].filter((t) => t.search).length, 0);
    if (locators === 0 || searches > locators * this.perWorker) return best;
    return bestLocator;
  }

  private pump(): void {
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
      const msg: WorkerRequest = {
        type: 'estimate',
        id: task.id,
        model: task.opts.model,
        width: task.image.width,
        height: task.image.height,
        data,
        track: task.search ? null : (task.opts.track ?? null),
        locate: slot.locator,
      };
      slot.worker.postMessage(msg, [data]);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new PoolClosedError('pose worker pool closed'));
    await Promise.all(
      this.slots.map(async (s) => {
        for (const task of s.inFlight.values()) task.reject(new PoolClosedError('pose worker pool closed'));
        s.inFlight.clear();
        await s.worker.terminate();
      }),
    );
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
