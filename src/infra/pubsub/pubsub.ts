/**
 * Fan-out of small text messages to every process subscribed to a channel: at most once, no history. Used to
 * push live posture events to WebSocket clients connected to any API process.
 */
export interface PubSub {
  /** Resolves once the message is handed to the broker (not when subscribers got it). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Resolves once the subscription is active, so a message published after that point reaches the handler.
   * The returned function ends this one subscription; other handlers on the channel keep theirs.
   */
  subscribe(channel: string, handler: PubSubHandler): Promise<Unsubscribe>;
  /**
   * Adapters whose subscriptions can drop (a broker connection) tell `listener` false when they do and true once
   * they are subscribed again: messages published in between are lost, so a cache kept by them must not be trusted
   * until it is reloaded. Absent where nothing can be missed (in process).
   */
  onConnectionChange?(listener: (connected: boolean) => void): void;
  close(): Promise<void>;
}

export type PubSubHandler = (message: string) => void;
export type Unsubscribe = () => Promise<void>;

/**
 * Keeps the handlers of each channel in this process and tells the adapter when a channel gains its first or
 * loses its last handler, so a broker subscription exists once per process and channel, not once per socket.
 */
export class ChannelHandlers {
  private readonly channels = new Map<string, Set<PubSubHandler>>();

  /** Adds a handler; true when the channel had none before. */
  add(channel: string, handler: PubSubHandler): boolean {
    const handlers = this.channels.get(channel);
    if (handlers) {
      handlers.add(handler);
      return false;
    }
    this.channels.set(channel, new Set([handler]));
    return true;
  }

  /** Removes a handler; true when the channel has none left. */
  remove(channel: string, handler: PubSubHandler): boolean {
    const handlers = this.channels.get(channel);
    if (!handlers?.delete(handler)) return false;
    if (handlers.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** Delivers to every handler; one throwing handler does not keep the message from the others. */
  deliver(channel: string, message: string, onError: (error: unknown) => void): void {
    for (const handler of this.channels.get(channel) ?? []) {
      try {
        handler(message);
      } catch (error) {
        onError(error);
      }
    }
  }

  clear(): void {
    this.channels.clear();
  }
}
