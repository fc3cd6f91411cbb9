import type { PubSub, Unsubscribe } from '../infra/pubsub/pubsub.ts';

export interface FollowedChannelDeps {
  pubsub: PubSub;
  channel: string;
  onMessage(message: string): void;
  /** Brings the view up to date from the database; messages keep arriving (and applying) while it runs. */
  reload(): Promise<void>;
  onError(error: unknown): void;
}

/**
 * A view of database rows kept current by pub/sub is only as good as its subscription. This follows one channel and
 * says whether the view may be trusted: not before the first subscription and load, not from the moment the broker
 * connection drops (what is published then is lost), and again only once the reload after the reconnect finished.
 * Until then the view's owner asks the database.
 */
export class FollowedChannel {
  private live = false;
  /** Bumped on every loss, so a reload that began before the latest loss cannot declare the view trusted. */
  private generation = 0;
  /** One subscription however many reconnects race to make it. */
  private subscription: Promise<Unsubscribe> | null = null;
  private stopped = false;

  constructor(private readonly deps: FollowedChannelDeps) {}

  isLive(): boolean {
    return this.live;
  }

  async start(): Promise<void> {
    // Only a reconnect after a loss calls for a reload: the first connection's 'ready' may come after start.
    let lost = false;
    this.deps.pubsub.onConnectionChange?.((connected) => {
      if (!connected) {
        lost = true;
        this.lose();
      } else if (lost) {
        lost = false;
        void this.restore();
      }
    });
    await this.restore();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.lose();
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.then((unsubscribe) => unsubscribe()).catch(() => {});
  }

  private lose(): void {
    this.generation++;
    this.live = false;
  }

  private async restore(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.live = false;
    try {
      // Subscribed before loading, so a change made during the load is heard rather than missed.
      this.subscription ??= this.deps.pubsub.subscribe(this.deps.channel, (message) => this.deps.onMessage(message))
        .catch((error: unknown) => {
          this.subscription = null;
          throw error;
        });
      await this.subscription;
      await this.deps.reload();
    } catch (error) {
      // Left on the database; the next reconnect tries again.
      this.deps.onError(error);
      return;
    }
    if (generation === this.generation && !this.stopped) this.live = true;
  }
}
