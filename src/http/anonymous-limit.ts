import type { FastifyRequest } from 'fastify';
import { errors } from '../errors/app-error.ts';
import type { RateLimiter } from '../infra/rate-limit/rate-limiter.ts';

/**
 * A preHandler for routes anyone may call without an account and that create rows: anonymous callers share a
 * budget per client IP (shared across API processes when the limiter is Redis), so a script cannot fill the
 * database. Signed-in callers pass; run it after the optional-user guard.
 */
export function anonymousPerIpLimit(limiter: RateLimiter, route: string, perMinute: number) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.auth) return;
    const decision = await limiter.consume(`anon:${route}:${request.ip}`, { limit: perMinute, windowMs: 60_000 });
    if (!decision.allowed) {
      throw errors.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)), 'Too many requests, try again later');
    }
  };
}
