import type { RateLimitDecision, RateLimiter, RateLimitOptions } from './rate-limiter.ts';

interface Window {
  times: number[];
  /** The key's own window: sweeps must not judge a 15-minute login budget by a 1-second event budget. */
  windowMs: number;
}

/** Per-process limiter: exact for one process; several processes need the Redis one. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private calls = 0;

  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  async consume(key: string, options: RateLimitOptions): Promise<RateLimitDecision> {
    return this.decide(key, options, true);
  }

  async peek(key: string, options: RateLimitOptions): Promise<RateLimitDecision> {
    return this.decide(key, options, false);
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  private decide(key: string, { limit, windowMs, cost = 1 }: RateLimitOptions, take: boolean): RateLimitDecision {
    const now = this.now();
    if (++this.calls % 1000 === 0) this.sweep(now);
    const recent = (this.windows.get(key)?.times ?? []).filter((t) => t > now - windowMs);
    const allowed = recent.length + cost <= limit;
    if (allowed && take) for (let i = 0; i < cost; i++) recent.push(now);
    // Peeks at unknown keys leave nothing behind, so probing random emails cannot grow the map.
    if (recent.length > 0) this.windows.set(key, { times: recent, windowMs });
    else this.windows.delete(key);
    if (allowed) return { allowed: true };
    // Wait until enough old hits leave the window to make room for this cost.
    const freeingHit = recent[recent.length + cost - limit - 1] ?? now;
    return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(freeingHit + windowMs - now)) };
  }

  private sweep(now: number): void {
    for (const [key, { times, windowMs }] of this.windows) {
      if ((times.at(-1) ?? 0) <= now - windowMs) this.windows.delete(key);
    }
  }
}
