/**
 * Sliding-window counters: at most `limit` units in any window of `windowMs`. A refused call consumes nothing,
 * so a client that backs off is not punished for the attempts that were refused.
 */
export interface RateLimiter {
  consume(key: string, options: RateLimitOptions): Promise<RateLimitDecision>;
  /**
   * What `consume` would decide now, taking nothing: for budgets charged only after the outcome is known
   * (failed logins), so a success never spends them.
   */
  peek(key: string, options: RateLimitOptions): Promise<RateLimitDecision>;
  /** Forgets every unit of `key`, e.g. an email's failed logins once the right password is given. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimitOptions {
  limit: number;
  windowMs: number;
  cost?: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };
