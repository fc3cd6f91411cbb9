import { MemoryPubSub } from './memory-pubsub.ts';
import type { PubSub, PubSubHandler } from './pubsub.ts';

/** An in-process pub/sub whose subscriber connection the test can drop: what it misses meanwhile is lost. */
export class DroppablePubSub implements PubSub {
  private readonly inner = new MemoryPubSub();
  private readonly listeners: Array<(connected: boolean) => void> = [];
  private connected = true;

  publish(channel: string, message: string): Promise<void> {
    return this.inner.publish(channel, message);
  }

  subscribe(channel: string, handler: PubSubHandler) {
    return this.inner.subscribe(channel, (message) => {
      if (this.connected) handler(message);
    });
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.listeners.push(listener);
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    for (const listener of this.listeners) listener(connected);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
