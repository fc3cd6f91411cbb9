// Sends posture events at a bounded rate. The pose model runs faster than the API takes events (at most 10 per
// session in any second), so most poses are dropped here on purpose: never queued, since a queued pose is a stale
// pose and a queue behind a slow network only grows. Pure apart from the injected post and clock (unit-tested).
import { readApiError, type ApiFailure } from './live-api.ts';

/**
 * Sends are spaced this far apart on average (at most 8.3 events/s). The server counts a request when it arrives,
 * which with one request in flight is somewhere between its send and the next one: eleven arrivals fit in one
 * second only if nine send intervals together span less than a second.
 */
export const SEND_INTERVAL_MS = 120;
/**
 * A send may come this much before its due time, so that waiting for the next pose (poses come every 40 to 80 ms)
 * does not cost the average rate; nine intervals still span at least 9 × 120 − 60 = 1,020 ms.
 */
const EARLY_MS = 60;
const MAX_BACKOFF_S = 60;

export interface EventSenderDeps<E> {
  post(event: E): Promise<unknown>;
  now?(): number;
  /** A refused or failed send (after it has been accounted for); 401 means the sign-in expired. */
  onFailure?(failure: ApiFailure): void;
}

export class EventSender<E> {
  /** The request in flight, if any. */
  private pending: Promise<void> | null = null;
  /** When the next send is due: advanced by SEND_INTERVAL_MS per send (a virtual schedule, as in GCRA). */
  private due = -Infinity;
  private blockedUntil = -Infinity;
  private stopped = false;
  /** 429s in a row: without a Retry-After the back-off doubles with each (a daily ceiling is not a 1-second one). */
  private refusals = 0;
  /** Events the server stored. */
  sent = 0;

  constructor(private readonly deps: EventSenderDeps<E>) {}

  /** Sends `event` now if allowed, else drops it. Returns whether it was sent. */
  offer(event: E): boolean {
    const now = this.now();
    if (this.stopped || this.pending || now < this.due - EARLY_MS || now < this.blockedUntil) return false;
    this.due = Math.max(this.due, now) + SEND_INTERVAL_MS;
    this.pending = this.deps.post(event).then(
      () => {
        this.sent += 1;
        this.refusals = 0;
      },
      (error: unknown) => {
        const failure = readApiError(error);
        // 429: wait as long as the server asks (1 s for the per-second limit) instead of adding to the overload.
        if (failure.status === 429) {
          const seconds = failure.retryAfterSeconds ?? Math.min(MAX_BACKOFF_S, 2 ** this.refusals);
          this.refusals += 1;
          this.blockedUntil = this.now() + seconds * 1000;
        }
        if (failure.status === 401) this.stopped = true;
        this.deps.onFailure?.(failure);
      },
    ).finally(() => {
      this.pending = null;
    });
    return true;
  }

  /** Resolves once no request is in flight (before ending a session, so its last event is counted). */
  async settle(): Promise<void> {
    await this.pending;
  }

  private now(): number {
    return this.deps.now?.() ?? performance.now();
  }
}
