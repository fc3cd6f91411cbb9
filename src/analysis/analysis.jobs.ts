import { assertEveryJobHandled, type JobQueue } from '../infra/queue/job-queue.ts';
import type { AnalysisRunner } from './analysis-runner.ts';

/** Registers exactly one handler per job; a job added to the map without one stops the process at start. */
export async function startAnalysisWorkers(queue: JobQueue, runner: AnalysisRunner, concurrency: number): Promise<void> {
  const handlers = {
    'analyse-session': { run: runner.run.bind(runner), concurrency },
    'analyse-session-dead': { run: runner.bury.bind(runner), concurrency: 1 },
  } as const;
  assertEveryJobHandled(Object.keys(handlers));
  await queue.work('analyse-session', handlers['analyse-session'].run, { concurrency });
  await queue.work('analyse-session-dead', handlers['analyse-session-dead'].run, { concurrency: 1 });
}
