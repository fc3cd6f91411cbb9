// Worker thread body: owns one PoseEngine (its own TF.js WASM instance and models) and answers estimate requests
// from the pool one at a time. Started through pose-worker-bootstrap.mjs so it runs from TypeScript sources.
import { parentPort, workerData } from 'node:worker_threads';
import { PoseEngine } from './pose-engine.ts';
import type { WorkerRequest, WorkerResponse } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('pose.worker.ts must run in a worker thread');

const engine = new PoseEngine();
const { models } = workerData as { models: string[] };
const cancelled = new Set<number>();

function send(msg: WorkerResponse): void {
  port!.postMessage(msg);
}

// Requests are handled strictly in order; the pool bounds how many wait here.
let chain: Promise<void> = engine.preload(models).then(
  () => send({ type: 'ready' }),
  (err: unknown) => send({ type: 'fatal', message: (err as Error).message }),
);

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.id);
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
      const result = await engine.estimate(image, { model: msg.model, track: msg.track ?? null });
      send({ type: 'result', id: msg.id, result, ms: performance.now() - t0 });
    } catch (err) {
      send({ type: 'error', id: msg.id, message: (err as Error).message });
    }
  });
});
