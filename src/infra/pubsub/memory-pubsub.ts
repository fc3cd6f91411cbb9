import { ChannelHandlers, type PubSub, type PubSubHandler, type Unsubscribe } from './pubsub.ts';

/**
 * In-process fan-out: right for one API process and for tests. Delivery is deferred to a microtask so a publisher
 * never runs subscriber code inside its own call stack (as with a real broker).
 */
export class MemoryPubSub implements PubSub {
  private readonly handlers = new ChannelHandlers();
  private closed = false;

  constructor(private readonly onHandlerError: (error: unknown) => void = () => {}) {}

  async publish(channel: string, message: string): Promise<void> {
    if (this.closed) throw new Error('PubSub is closed');
    queueMicrotask(() => this.handlers.deliver(channel, message, this.onHandlerError));
  }

  async subscribe(channel: string, handler: PubSubHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('PubSub is closed');
    // Wrapping makes each subscription distinct even when the same function subscribes twice.
    const own: PubSubHandler = (message) => handler(message);
    this.handlers.add(channel, own);
    return async () => {
      this.handlers.remove(channel, own);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}
