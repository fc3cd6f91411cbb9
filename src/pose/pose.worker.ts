// Worker thread body: owns one PoseEngine (its own TF.js WASM instance and models) and answers estimate requests
// from the pool one at a time. Started through pose-worker-bootstrap.mjs so it runs from TypeScript sources.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { releasePyramid } from './image-ops.ts';
import { PoseEngine, TRACK_LOST } from './pose-engine.ts';
import { tf, wasmHeapBytes } from './tf-runtime.ts';
import type { WorkerRequest, WorkerResponse } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('pose.worker.ts must run in a worker thread');

const engine = new PoseEngine();
const { models, locator } = workerData as { models: string[]; locator?: boolean };
const cancelled = new Set<number>();

/** CPU time of this thread in ms (Linux: utime + stime from /proc/thread-self/stat, 10 ms ticks), else 0. */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

function send(msg: WorkerResponse): void {
  port!.postMessage(msg);
}

// Requests are handled strictly in order; the pool bounds how many wait here.
let chain: Promise<void> = engine.preload(models, { locator: locator === true }).then(
  () => send({ type: 'ready' }),
  (err: unknown) => send({ type: 'fatal', message: (err as Error).message }),
);

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  if (msg.type === 'stats') {
    const mem = tf.memory();
    send({ type: 'stats', id: msg.id, stats: { tensors: mem.numTensors, tensorBytes: mem.numBytes, wasmHeapBytes: wasmHeapBytes(),
      jsHeapBytes: getHeapStatistics().used_heap_size, cpuMs: threadCpuMs(), ...engine.counters, loaded: engine.loadedModels() } });
    return;
  }
  if (msg.type === 'close') {
    chain = chain.then(async () => {
      await engine.dispose();
      port.close();
    });
    return;
  }
  chain = chain.then(async () => {
    if (cancelled.delete(msg.id)) return send({ type: 'result', id: msg.id, result: null, cancelled: true });
    const t0 = performance.now();
    try {
      const image = { data: new Uint8Array(msg.data), width: msg.width, height: msg.height };
      if (msg.type === 'people') {
        const people = await engine.detectPeople(image);
        releasePyramid();
        port!.postMessage({ type: 'people', id: msg.id, people, ms: performance.now() - t0, data: msg.data } satisfies WorkerResponse, [msg.data]);
        return;
      }
      // search: false (a video frame tracked from a fixed earlier answer): a lost crop is a gap, never a search,
      // so what a frame computes never depends on which thread holds the locator.
      const noSearch = msg.search === false;
      const answer = await engine.estimate(image, {
        model: msg.model, track: msg.track ?? null, person: msg.person ?? null, locate: noSearch ? false : msg.locate !== false,
        refine: msg.sequence !== true,
      });
      const result = noSearch && answer === TRACK_LOST ? null : answer;
      const ms = performance.now() - t0;
      if (result === TRACK_LOST) port!.postMessage({ type: 'lost', id: msg.id, data: msg.data, ms } satisfies WorkerResponse, [msg.data]);
      else {
        // The pixels go back to the pool (transferred) so the decoder refills them instead of allocating a new frame.
        releasePyramid();
        port!.postMessage({ type: 'result', id: msg.id, result, ms, data: msg.data } satisfies WorkerResponse, [msg.data]);
      }
    } catch (err) {
      send({ type: 'error', id: msg.id, message: (err as Error).message });
    }
  });
});
