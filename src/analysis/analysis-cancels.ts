import type { PubSub, Unsubscribe } from '../infra/pubsub/pubsub.ts';

/** One channel for every process that runs analyses: a cancel names the analysis, each process checks its own. */
export const ANALYSIS_CANCEL_CHANNEL = 'analysis-cancel';

/**
 * Tells whichever process runs an analysis to stop it now (a user deleted it). Pub/sub is at most once, so this is
 * the fast path only: the runner's heartbeat finds a deleted row within one heartbeat interval anyway.
 */
export class AnalysisCancels {
  private readonly watchers = new Map<string, Set<() => void>>();
  private subscription: Promise<Unsubscribe> | null = null;

  constructor(private readonly pubsub: PubSub, private readonly onError: (error: unknown) => void) {}

  publish(analysisId: string): void {
    this.pubsub.publish(ANALYSIS_CANCEL_CHANNEL, analysisId).catch(this.onError);
  }

  /** Subscribes this process (once); resolves when a cancel published from now on reaches `watch`ers. */
  async listen(): Promise<void> {
    this.subscription ??= this.pubsub.subscribe(ANALYSIS_CANCEL_CHANNEL, (id) => {
      for (const onCancel of this.watchers.get(id) ?? []) onCancel();
    });
    await this.subscription;
  }

  /** Calls `onCancel` when `analysisId` is cancelled; the returned function stops watching. */
  watch(analysisId: string, onCancel: () => void): () => void {
    const set = this.watchers.get(analysisId) ?? new Set();
    set.add(onCancel);
    this.watchers.set(analysisId, set);
    return () => {
      set.delete(onCancel);
      if (set.size === 0 && this.watchers.get(analysisId) === set) this.watchers.delete(analysisId);
    };
  }

  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription) await (await subscription)();
  }
}
