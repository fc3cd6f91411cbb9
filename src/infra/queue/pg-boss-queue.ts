import PgBoss from 'pg-boss';
import type { DatabaseHandle } from '../db/database.ts';
import { JobAbortedError, leaseAbortMs, type JobHandler, type JobMap, type JobName, type JobQueue, type SqlExecutor } from './job-queue.ts';

const QUEUE_INSTALL_LOCK_KEY = 7_301_043;

export interface QueueOptions {
  /** Schema pg-boss keeps its tables in (its own, beside ours). */
  schema: string;
  /** How long a job may run before it is considered lost and offered again: the lease. */
  leaseSeconds: number;
  retryLimit: number;
  retryDelaySeconds: number;
  pollIntervalSeconds: number;
  /** How often expired leases are looked for. */
  superviseIntervalSeconds: number;
}

/**
 * pg-boss over our own database handle: on PGlite its statements queue behind the single connection like any
 * other query; on PostgreSQL they use the shared pool. Retries back off exponentially from retryDelaySeconds.
 */
export async function openPgBossQueue(database: DatabaseHandle, options: QueueOptions, onError: (error: Error) => void): Promise<JobQueue> {
  const db: SqlExecutor = {
    executeSql: (text, values) => database.withConnection((conn) =>
      values && values.length > 0 ? conn.query(text, values) : conn.exec(text)),
  };
  const boss = new PgBoss({
    db,
    schema: options.schema,
    supervise: true,
    schedule: false,
    migrate: true,
    maintenanceIntervalSeconds: options.superviseIntervalSeconds,
    monitorStateIntervalSeconds: options.superviseIntervalSeconds,
  } as PgBoss.ConstructorOptions);
  boss.on('error', onError);
  const install = async (): Promise<void> => {
    await boss.start();
    await boss.createQueue('analyse-session-dead', { name: 'analyse-session-dead', retryLimit: 5, retryDelay: 1, retryBackoff: true } as PgBoss.Queue);
    await boss.createQueue('analyse-session', {
      name: 'analyse-session',
      retryLimit: options.retryLimit,
      retryDelay: options.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: options.leaseSeconds,
      deadLetter: 'analyse-session-dead',
    } as PgBoss.Queue);
  };
  if (database.engine === 'postgres') {
    // pg-boss's first-time install is not safe when several processes start together (both create its schema, and
    // two create_queue calls deadlock on its queue table); a session advisory lock held on one pooled connection
    // makes the others wait until schema and queues are installed.
    await database.withConnection(async (conn) => {
      await conn.query('SELECT pg_advisory_lock($1)', [QUEUE_INSTALL_LOCK_KEY]);
      try {
        await install();
      } finally {
        await conn.query('SELECT pg_advisory_unlock($1)', [QUEUE_INSTALL_LOCK_KEY]);
      }
    });
  } else {
    await install();
  }

  let stopping: Promise<void> | null = null;
  const retryLimits: Record<string, number> = { 'analyse-session': options.retryLimit, 'analyse-session-dead': 5 };
  /** The jobs this process has in hand, so a shutdown can tell each to stop instead of waiting for it to finish. */
  const inHand = new Set<AbortController>();

  return {
    async send(name, data, sendOptions = {}) {
      return boss.send(name, data as object, sendOptions.tx ? { db: sendOptions.tx } as PgBoss.SendOptions : {});
    },
    async work<N extends JobName>(name: N, handler: JobHandler<N>, workOptions: { concurrency?: number } = {}) {
      const concurrency = workOptions.concurrency ?? 1;
      for (let i = 0; i < concurrency; i++) {
        await boss.work<JobMap[N]>(name, {
          batchSize: 1, includeMetadata: true, pollingIntervalSeconds: options.pollIntervalSeconds,
        }, async (jobs) => {
          for (const job of jobs as Array<PgBoss.JobWithMetadata<JobMap[N]>>) {
            const controller = new AbortController();
            if (stopping) controller.abort(new JobAbortedError('shutdown', 'The worker is shutting down'));
            // pg-boss gives the job up at the lease but cannot stop the handler: without this the work would go on
            // beside the retry it hands out.
            const lease = setTimeout(() => controller.abort(new JobAbortedError('lease',
              `The work did not finish within its ${options.leaseSeconds} s time limit (the job's lease)`)), leaseAbortMs(options.leaseSeconds));
            inHand.add(controller);
            try {
              await handler({
                id: job.id,
                name,
                data: job.data,
                retryCount: job.retryCount,
                isLastAttempt: job.retryCount >= (retryLimits[name] ?? 0),
                signal: controller.signal,
              });
            } finally {
              clearTimeout(lease);
              inHand.delete(controller);
            }
          }
        });
      }
    },
    /** Jobs waiting per queue, for the queue-depth metric. */
    async stats() {
      const counts: Record<string, number> = {};
      for (const name of ['analyse-session', 'analyse-session-dead'] as const) {
        counts[name] = await boss.getQueueSize(name);
      }
      return counts;
    },
    stop() {
      // Idempotent: the process's shutdown and the adapters' close may both ask.
      if (!stopping) {
        // The signal first: handlers that honour it return within about a second, so the graceful stop is quick.
        const reason = new JobAbortedError('shutdown', 'The worker is shutting down');
        for (const controller of inHand) controller.abort(reason);
        stopping = boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      }
      return stopping;
    },
  };
}
