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
  stop(): Promise<void>;
}

export function assertEveryJobHandled(registered: readonly string[]): void {
  const missing = JOB_NAMES.filter((name) => !registered.includes(name));
  const duplicated = registered.filter((name, i) => registered.indexOf(name) !== i);
  if (missing.length || duplicated.length) {
    throw new Error(`Job handlers mismatch: missing [${missing.join(', ')}], registered twice [${duplicated.join(', ')}]`);
  }
}
