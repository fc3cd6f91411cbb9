import type { RateLimitDecision, RateLimiter } from './rate-limiter.ts';

/** Per-process limiter: exact for one process; several processes need the Redis one. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private calls = 0;

  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  async consume(key: string, { limit, windowMs, cost = 1 }: { limit: number; windowMs: number; cost?: number }):
    Promise<RateLimitDecision> {
    const now = this.now();
    if (++this.calls % 1000 === 0) this.sweep(now, windowMs);
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - windowMs);
    if (recent.length + cost > limit) {
      this.hits.set(key, recent);
      // Wait until enough old hits leave the window to make room for this cost.
      const mustExpire = recent.length + cost - limit;
      const freeingHit = recent[mustExpire - 1] ?? now;
      return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(freeingHit + windowMs - now)) };
    }
    for (let i = 0; i < cost; i++) recent.push(now);
    this.hits.set(key, recent);
    return { allowed: true };
  }

  async close(): Promise<void> {
    this.hits.clear();
  }

  private sweep(now: number, windowMs: number): void {
    for (const [key, times] of this.hits) {
      if ((times.at(-1) ?? 0) <= now - windowMs) this.hits.delete(key);
    }
  }
}
