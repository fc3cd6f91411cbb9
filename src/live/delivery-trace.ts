import diagnostics_channel from 'node:diagnostics_channel';

/**
 * Where a live event is on its way from the POST to the owner's socket, for `bench/live.bench.ts`:
 * - `received`: the request's body is parsed and validated and handed to the ingest;
 * - `committed`: the INSERT holding it returned (its transaction committed);
 * - `published`: handed to the pub/sub (the fan-out starts);
 * - `sent`: written to one subscribed socket (one mark per socket).
 * Nothing is published unless someone subscribed to the channel, so production pays one property read per step.
 */
export type DeliveryStage = 'received' | 'committed' | 'published' | 'sent';

/** What a mark knows of an event: its client metadata until it is stored, its id from then on (both at `committed`). */
export interface TracedEvent {
  readonly id?: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface DeliveryMark {
  stage: DeliveryStage;
  /** Monotonic milliseconds (`process.hrtime`), comparable between processes of one machine (a bench's client and server). */
  at: number;
  /** The events themselves (read them, do not change them). */
  events: readonly TracedEvent[];
}

export const DELIVERY_TRACE_CHANNEL = 'postura:live:delivery';

const channel = diagnostics_channel.channel(DELIVERY_TRACE_CHANNEL);

/** Marks `events` (or one event) at `stage` when a trace subscriber listens; otherwise does nothing (and builds nothing). */
export function traceDelivery(stage: DeliveryStage, events: readonly TracedEvent[] | TracedEvent): void {
  if (!channel.hasSubscribers) return;
  const list = Array.isArray(events) ? events : [events as TracedEvent];
  if (list.length > 0) channel.publish({ stage, at: monotonicMs(), events: list } satisfies DeliveryMark);
}

/** Subscribes `listener` to every mark of this process; returns the function that stops it. */
export function onDeliveryTrace(listener: (mark: DeliveryMark) => void): () => void {
  const handler = (message: unknown) => listener(message as DeliveryMark);
  diagnostics_channel.subscribe(DELIVERY_TRACE_CHANNEL, handler);
  return () => {
    diagnostics_channel.unsubscribe(DELIVERY_TRACE_CHANNEL, handler);
  };
}

/** CLOCK_MONOTONIC in ms: unlike `performance.now()` (per-process origin), the same clock in every process of the machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
