/**
 * Every job the system runs, with its payload. Adding a job means adding it here and registering exactly one
 * handler; `assertEveryJobHandled` checks that at start-up.
 */
export interface JobMap {
  'analyse-session': { analysisId: string };
  /** Dead letters of analyse-session: jobs whose every attempt failed or whose worker died on the last one. */
  'analyse-session-dead': { analysisId: string };
}

export type JobName = keyof JobMap;
export const JOB_NAMES: readonly JobName[] = ['analyse-session', 'analyse-session-dead'];

export interface JobContext<N extends JobName> {
  id: string;
  name: N;
  data: JobMap[N];
  /** 0 on the first try. */
  retryCount: number;
  isLastAttempt: boolean;
  /**
   * Aborted when the job must stop: its lease is about to run out (the queue would offer it again), the process is
   * shutting down, or the handler's own cancel (a deleted analysis). The reason is a `JobAbortedError`.
   */
  signal: AbortSignal;
}

export type JobAbortReason = 'lease' | 'shutdown' | 'cancelled';

/** Why a job's signal was aborted; the handler decides from `reason` whether another attempt makes sense. */
export class JobAbortedError extends Error {
  override readonly name = 'JobAbortedError';
  constructor(readonly reason: JobAbortReason, message: string) {
    super(message);
  }
}

/**
 * When a job's signal is aborted for its lease: a margin before the lease ends (a tenth of it, 1 to 30 s), so the
 * work has stopped and its claim is released before the queue offers the job again.
 */
export function leaseAbortMs(leaseSeconds: number): number {
  const lease = leaseSeconds * 1000;
  const margin = Math.min(30_000, Math.max(1_000, lease / 10));
  return Math.max(lease / 2, lease - margin);
}

export type JobHandler<N extends JobName> = (job: JobContext<N>) => Promise<void>;

/** Runs raw SQL on the caller's open transaction, so a job is enqueued atomically with the row it concerns. */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface JobQueue {
  send<N extends JobName>(name: N, data: JobMap[N], options?: { tx?: SqlExecutor }): Promise<string | null>;
  /** Starts `concurrency` polling workers for the job; call once per job name. */
  work<N extends JobName>(name: N, handler: JobHandler<N>, options?: { concurrency?: number }): Promise<void>;
  /** Jobs waiting per queue. */
  stats(): Promise<Record<string, number>>;
  /** Aborts the signal of every job in hand (reason `shutdown`), then waits for their handlers to return. */
  stop(): Promise<void>;
}

export function assertEveryJobHandled(registered: readonly string[]): void {
  const missing = JOB_NAMES.filter((name) => !registered.includes(name));
  const duplicated = registered.filter((name, i) => registered.indexOf(name) !== i);
  if (missing.length || duplicated.length) {
    throw new Error(`Job handlers mismatch: missing [${missing.join(', ')}], registered twice [${duplicated.join(', ')}]`);
  }
}
