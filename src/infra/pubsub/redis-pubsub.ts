import { Redis } from 'ioredis';
import { ChannelHandlers, type PubSub, type PubSubHandler, type Unsubscribe } from './pubsub.ts';

/**
 * Redis pub/sub: every API process on one Redis sees every message of the channels it subscribed to. A connection
 * in subscriber mode can run no other command, so publishing uses a second connection. Each channel is subscribed
 * once per process however many local handlers it has.
 */
export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new ChannelHandlers();
  /** Serialises SUBSCRIBE/UNSUBSCRIBE so a quick unsubscribe-then-subscribe cannot leave the channel dropped. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    url: string,
    private readonly prefix = 'postura:',
    private readonly onHandlerError: (error: unknown) => void = () => {},
  ) {
    this.publisher = new Redis(url, { maxRetriesPerRequest: 2 });
    // ioredis re-subscribes every channel by itself after a reconnect (autoResubscribe, on by default).
    this.subscriber = new Redis(url, { maxRetriesPerRequest: 2 });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(this.prefix)) return;
      this.handlers.deliver(channel.slice(this.prefix.length), message, this.onHandlerError);
    });
    // Connection errors are retried by ioredis; an unhandled 'error' event would crash the process.
    this.publisher.on('error', () => {});
    this.subscriber.on('error', () => {});
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, handler: PubSubHandler): Promise<Unsubscribe> {
    const own: PubSubHandler = (message) => handler(message);
    await this.serially(async () => {
      if (!this.handlers.add(channel, own)) return;
      try {
        await this.subscriber.subscribe(this.prefix + channel);
      } catch (error) {
        this.handlers.remove(channel, own);
        throw error;
      }
    });
    return () => this.serially(async () => {
      if (this.handlers.remove(channel, own)) await this.subscriber.unsubscribe(this.prefix + channel);
    });
  }

  /**
   * 'ready' comes after ioredis has written the SUBSCRIBE of every channel again, so a reload started on `true`
   * cannot miss a message published after it.
   */
  onConnectionChange(listener: (connected: boolean) => void): void {
    this.subscriber.on('close', () => listener(false));
    this.subscriber.on('ready', () => listener(true));
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.all([this.subscriber, this.publisher].map((r) => r.quit().catch(() => r.disconnect())));
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.pending.then(step);
    this.pending = next.catch(() => {});
    return next;
  }
}
