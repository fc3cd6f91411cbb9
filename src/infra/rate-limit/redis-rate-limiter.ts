import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimiter, RateLimitOptions } from './rate-limiter.ts';

/**
 * One sorted set per key, scored by the Redis server's clock so that processes with skewed clocks agree.
 * Check and insert run in one script: two processes cannot both take the last unit. With ARGV[5] = 0 the script
 * only decides (a peek) and writes nothing but the pruning of expired members.
 */
const DECIDE_SCRIPT = `
local key = KEYS[1]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local member = ARGV[4]
local take = ARGV[5] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count + cost > limit then
  local freeing = redis.call('ZRANGE', key, count + cost - limit - 1, count + cost - limit - 1, 'WITHSCORES')
  local retry = window
  if freeing[2] then retry = tonumber(freeing[2]) + window - now end
  if retry < 1 then retry = 1 end
  return {0, retry}
end
if not take then return {1, 0} end
for i = 1, cost do
  redis.call('ZADD', key, now, member .. ':' .. i)
end
redis.call('PEXPIRE', key, window)
return {1, 0}
`;

type DecideCommand = (key: string, ...args: Array<string | number>) => Promise<[number, number]>;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix = 'postura:rl:') {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
    this.redis.defineCommand('decideWindow', { numberOfKeys: 1, lua: DECIDE_SCRIPT });
  }

  consume(key: string, options: RateLimitOptions): Promise<RateLimitDecision> {
    return this.decide(key, options, true);
  }

  peek(key: string, options: RateLimitOptions): Promise<RateLimitDecision> {
    return this.decide(key, options, false);
  }

  /** One DEL: atomic against the scripts, so a consume runs wholly before it or wholly after it, never between. */
  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async decide(key: string, { limit, windowMs, cost = 1 }: RateLimitOptions, take: boolean):
    Promise<RateLimitDecision> {
    const command = (this.redis as unknown as { decideWindow: DecideCommand }).decideWindow;
    const [allowed, retryAfterMs] = await command.call(
      this.redis, this.prefix + key, windowMs, limit, cost, randomUUID(), take ? 1 : 0);
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs };
  }
}
