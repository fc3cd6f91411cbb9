// Messages between the worker pool and pose.worker.ts.
import type { Box, PoseResult } from './pose-types.ts';

export type WorkerRequest =
  | { type: 'estimate'; id: number; model: string; width: number; height: number; data: ArrayBuffer; track?: Box | null }
  | { type: 'cancel'; id: number }
  | { type: 'close' };

export type WorkerResponse =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; result: PoseResult | null; ms?: number; cancelled?: boolean }
  | { type: 'error'; id: number; message: string };
