import type { PubSub, Unsubscribe } from '../infra/pubsub/pubsub.ts';
import { traceDelivery } from './delivery-trace.ts';
import type { PostureEvent } from './live-session.ts';
import { toPostureEventBody, type PostureEventBody, type PostureSocketMessage } from './live.schemas.ts';

/**
 * The per-user stream of new posture events, across every API process: one pub/sub channel per user, so a socket
 * only ever receives its own user's events (the replaced service broadcast everyone's to everyone).
 */
export class PostureFeed {
  constructor(private readonly pubsub: PubSub) {}

  /**
   * Called after the events' transaction committed: a subscriber that reads the database will find them. Each
   * event's socket message is serialised here, once, whatever the number of sockets and processes that send it.
   */
  async publish(userId: string, events: readonly PostureEvent[]): Promise<void> {
    if (events.length === 0) return;
    traceDelivery('published', events);
    await this.pubsub.publish(channelOf(userId), encodeFeed(events));
  }

  /** Resolves once events published from now on will reach `listener`, in publication order per process. */
  subscribe(userId: string, listener: (events: FeedEvent[]) => void): Promise<Unsubscribe> {
    return this.pubsub.subscribe(channelOf(userId), (message) => listener(decodeFeed(message)));
  }
}

/** One new event as a socket sends it: the `{type:"posture", event}` message, and the event's id. */
export interface FeedEvent {
  id: number;
  message: string;
}

export function postureMessage(event: PostureEventBody): string {
  return JSON.stringify({ type: 'posture', event } satisfies PostureSocketMessage);
}

/**
 * A pub/sub message: one line per event, `<id> <socket message>` (JSON text holds no raw line break), so a
 * subscriber sends the text as it came instead of parsing it and serialising it again per socket.
 */
export function encodeFeed(events: readonly PostureEvent[]): string {
  return events.map((event) => `${event.id} ${postureMessage(toPostureEventBody(event))}`).join('\n');
}

export function decodeFeed(message: string): FeedEvent[] {
  // A JSON array of event bodies: what processes of earlier versions publish (during a rolling upgrade).
  if (message.startsWith('[')) {
    return (JSON.parse(message) as PostureEventBody[]).map((event) => ({ id: event.id, message: postureMessage(event) }));
  }
  return message.split('\n').map((line) => {
    const space = line.indexOf(' ');
    return { id: Number(line.slice(0, space)), message: line.slice(space + 1) };
  });
}

function channelOf(userId: string): string {
  return `live:user:${userId}`;
}
