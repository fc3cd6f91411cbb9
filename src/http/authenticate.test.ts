import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AuthService } from '../auth/auth.service.ts';
import type { TokenFamily, VerifiedToken } from '../auth/token.service.ts';
import type { User } from '../users/user.ts';
import { createAuthGuards } from './authenticate.ts';

const HOUR = 3600;
const user: User = { id: 'u1', email: 'u@example.com', name: 'U', isAdmin: false, settings: {}, createdAt: new Date() };

/** Guards over an auth service that accepts one token, issued `ageSeconds` ago by `family`. */
function guardsFor(ageSeconds: number, family: TokenFamily | undefined, lifetimes: { studio: number; live: number }) {
  const token: VerifiedToken = {
    userId: user.id, jti: 'j1', issuedAt: new Date(Date.now() - ageSeconds * 1000),
    expiresAt: new Date(Date.now() + 30 * 24 * HOUR * 1000), family,
  };
  const auth = { authenticate: async () => ({ user, token }) } as unknown as AuthService;
  return createAuthGuards(auth, {
    allowedOrigins: [], studioTokenTtlSeconds: lifetimes.studio, liveTokenTtlSeconds: lifetimes.live,
  });
}

const request = (url: string) =>
  ({ url, method: 'GET', headers: { authorization: 'Bearer t' }, cookies: {} }) as unknown as FastifyRequest;

describe('token lifetime per route family', () => {
  const defaults = { studio: 3 * HOUR, live: 7 * 24 * HOUR };

  it('refuses on studio routes a live token older than the studio lifetime, accepts it on live routes', async () => {
    const guards = guardsFor(4 * HOUR, 'live', defaults);
    await expect(guards.requireUser(request('/auth/profile'))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(guards.requireUser(request('/api/analysis/list'))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(guards.requireUser(request('/api/auth/me/'))).resolves.toBeUndefined();
    await expect(guardsFor(2 * HOUR, 'live', defaults).requireUser(request('/auth/profile'))).resolves.toBeUndefined();
  });

  it('the other way: with a live lifetime shorter than the studio one, an older studio token is refused on live routes', async () => {
    const lifetimes = { studio: 4 * HOUR, live: HOUR };
    const guards = guardsFor(2 * HOUR, 'studio', lifetimes);
    await expect(guards.requireUser(request('/api/sessions/start/'))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(guards.requireUser(request('/auth/profile'))).resolves.toBeUndefined();
  });

  it('judges a token without a family claim by its age alone', async () => {
    const guards = guardsFor(4 * HOUR, undefined, defaults);
    await expect(guards.optionalUser(request('/auth/profile'))).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(guards.optionalUser(request('/api/auth/me/'))).resolves.toBeUndefined();
  });
});
