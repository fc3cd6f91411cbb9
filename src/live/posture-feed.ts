import type { PubSub, Unsubscribe } from '../infra/pubsub/pubsub.ts';
import type { PostureEvent } from './live-session.ts';
import { toPostureEventBody, type PostureEventBody } from './live.schemas.ts';

/**
 * The per-user stream of new posture events, across every API process: one pub/sub channel per user, so a socket
 * only ever receives its own user's events (the replaced service broadcast everyone's to everyone).
 */
export class PostureFeed {
  constructor(private readonly pubsub: PubSub) {}

  /** Called after the events' transaction committed: a subscriber that reads the database will find them. */
  async publish(userId: string, events: readonly PostureEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.pubsub.publish(channelOf(userId), JSON.stringify(events.map(toPostureEventBody)));
  }

  /** Resolves once events published from now on will reach `listener`, in publication order per process. */
  subscribe(userId: string, listener: (events: PostureEventBody[]) => void): Promise<Unsubscribe> {
    return this.pubsub.subscribe(channelOf(userId), (message) => listener(JSON.parse(message) as PostureEventBody[]));
  }
}

function channelOf(userId: string): string {
  return `live:user:${userId}`;
}
