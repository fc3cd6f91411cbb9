// Messages between the worker pool and pose.worker.ts.
import type { Box, LocatedPerson, PersonCandidate, PoseResult } from './pose-types.ts';

export type WorkerRequest =
  | {
      type: 'estimate';
      id: number;
      model: string;
      width: number;
      height: number;
      data: ArrayBuffer;
      track?: Box | null;
      /** A person already located: search from this box instead of the locator's choice. */
      person?: LocatedPerson | null;
      /** false: a tracked crop that loses the person answers null (a gap) instead of searching the whole frame. */
      search?: boolean;
      /** false: answer `lost` (with the pixels back) instead of searching the whole frame with the locator. */
      locate?: boolean;
      /** A video frame: a whole-image search skips its refining second crop (see EngineEstimateOptions.refine). */
      sequence?: boolean;
    }
  /** Everybody in the frame (the person locator), for keyframes and for choosing a photo's subject. */
  | { type: 'people'; id: number; width: number; height: number; data: ArrayBuffer }
  | { type: 'cancel'; id: number }
  | { type: 'stats'; id: number }
  | { type: 'close' };

export type WorkerResponse =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  /** `data`: the request's pixels handed back (transferred) for reuse by the next frame. */
  | { type: 'result'; id: number; result: PoseResult | null; ms?: number; cancelled?: boolean; data?: ArrayBuffer }
  | { type: 'people'; id: number; people: PersonCandidate[]; ms?: number; data?: ArrayBuffer }
  | { type: 'error'; id: number; message: string }
  /** The tracked person was lost and this worker may not search: the pixels come back (transferred) for a retry. */
  | { type: 'lost'; id: number; data: ArrayBuffer; ms?: number }
  | { type: 'stats'; id: number; stats: WorkerStats };

/** Memory of one worker thread (to check that nothing grows per frame). */
export interface WorkerStats {
  /** TF.js tensors alive and their bytes (tf.memory()). */
  tensors: number;
  tensorBytes: number;
  /** Size of the WASM linear memory (it only ever grows). */
  wasmHeapBytes: number;
  /** V8 heap used by this thread. */
  jsHeapBytes: number;
  /** CPU time this thread has used (user + system, ms; Linux /proc, else 0): with the wall time it separates
   *  "slower because the core is shared with other load" from "slower per instruction". */
  cpuMs: number;
  /** Frames answered from the tracked crop, tracked crops that lost the person, lost crops found again by the
   *  wider retry, whole-image searches. */
  tracked: number;
  lost: number;
  rescued: number;
  searches: number;
  /** Models loaded in this thread. */
  loaded: string[];
}
