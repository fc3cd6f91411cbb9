/**
 * Sliding-window counters: at most `limit` units in any window of `windowMs`. A refused call consumes nothing,
 * so a client that backs off is not punished for the attempts that were refused.
 */
export interface RateLimiter {
  consume(key: string, options: { limit: number; windowMs: number; cost?: number }): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };
