import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/auth.service.ts';
import type { VerifiedToken } from '../auth/token.service.ts';
import type { AuthConfig } from '../config/config.ts';
import { errors } from '../errors/app-error.ts';
import { familyOfUrl, type RouteFamily } from './error-mapping.ts';
import type { User } from '../users/user.ts';

export const ACCESS_COOKIE = 'access_token_cookie';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthContext {
  user: User;
  token: VerifiedToken;
  via: 'bearer' | 'cookie';
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export interface AuthGuards {
  /** preHandler: the request must carry a valid access token (header or cookie). */
  requireUser(request: FastifyRequest): Promise<void>;
  /** preHandler: as requireUser, and the user is an admin. */
  requireAdmin(request: FastifyRequest): Promise<void>;
  /** preHandler: attaches the user when a valid token is present; anonymous otherwise. */
  optionalUser(request: FastifyRequest): Promise<void>;
}

type GuardConfig = Pick<AuthConfig, 'allowedOrigins' | 'studioTokenTtlSeconds' | 'liveTokenTtlSeconds'>;

export function createAuthGuards(auth: AuthService, config: GuardConfig): AuthGuards {
  const resolve = async (request: FastifyRequest): Promise<AuthContext | null> => {
    const presented = readToken(request);
    if (!presented) return null;
    const { user, token } = await auth.authenticate(presented.token);
    assertWithinFamilyLifetime(token, familyOfUrl(request.url), config);
    if (presented.via === 'cookie' && !SAFE_METHODS.has(request.method)) {
      assertAllowedOrigin(request, config.allowedOrigins);
    }
    return { user, token, via: presented.via };
  };

  const requireUser = async (request: FastifyRequest): Promise<void> => {
    request.auth = await resolve(request);
    if (!request.auth) throw errors.unauthenticated();
  };

  return {
    requireUser,
    async requireAdmin(request) {
      await requireUser(request);
      if (!request.auth?.user.isAdmin) throw errors.forbidden();
    },
    async optionalUser(request) {
      request.auth = await resolve(request);
    },
  };
}

/**
 * Each family's routes accept a token only while it is younger than that family's own token lifetime, whichever
 * family issued it: a 7-day live token works on studio routes for their 3 hours, then its holder logs in again
 * through the studio routes (one account, two logins). Tokens issued by a family's own login pass by construction.
 */
function assertWithinFamilyLifetime(token: VerifiedToken, family: RouteFamily, config: GuardConfig): void {
  const lifetimeSeconds = family === 'live' ? config.liveTokenTtlSeconds : config.studioTokenTtlSeconds;
  if (Date.now() - token.issuedAt.getTime() > lifetimeSeconds * 1000) {
    throw errors.invalidToken(`Token is older than this API's ${family} session lifetime; log in again here`);
  }
}

/** The bearer header wins over the cookie; the live clients send `Token <t>` the way Django REST does. */
function readToken(request: FastifyRequest): { token: string; via: 'bearer' | 'cookie' } | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^(?:Bearer|Token)\s+(\S+)$/i.exec(header.trim());
    if (!match) throw errors.invalidToken('Malformed Authorization header');
    return { token: match[1]!, via: 'bearer' };
  }
  const cookie = request.cookies?.[ACCESS_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : null;
}

/**
 * A cookie rides along on cross-site requests, so a state change authenticated only by the cookie must
 * come from this site or a configured origin (CSRF defence on top of SameSite=Lax).
 */
function assertAllowedOrigin(request: FastifyRequest, allowedOrigins: readonly string[]): void {
  const origin = request.headers.origin ?? originOf(request.headers.referer);
  if (!origin || origin === 'null') throw errors.originNotAllowed();
  const own = `${request.protocol}://${request.host}`;
  if (origin !== own && !allowedOrigins.includes(origin)) throw errors.originNotAllowed();
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export interface CookiePolicy {
  secure: boolean;
  sameSite: AuthConfig['cookieSameSite'];
}

/**
 * How the access cookie is set for this request. `SameSite=None` (a web client on another site) is only honoured by
 * browsers on a Secure cookie, so it forces Secure; the origin check above still guards every state change.
 */
export function cookiePolicy(
  request: FastifyRequest,
  config: Pick<AuthConfig, 'cookieSecure' | 'cookieSameSite'>,
  production: boolean,
): CookiePolicy {
  const secure = config.cookieSecure === 'auto' ? production || request.protocol === 'https' : config.cookieSecure;
  return { secure: secure || config.cookieSameSite === 'none', sameSite: config.cookieSameSite };
}

export function setAccessCookie(reply: FastifyReply, token: { token: string; expiresAt: Date }, policy: CookiePolicy): void {
  reply.setCookie(ACCESS_COOKIE, token.token, {
    httpOnly: true,
    sameSite: policy.sameSite,
    secure: policy.secure,
    path: '/',
    expires: token.expiresAt,
  });
}

export function clearAccessCookie(reply: FastifyReply, policy: CookiePolicy): void {
  reply.clearCookie(ACCESS_COOKIE, { httpOnly: true, sameSite: policy.sameSite, secure: policy.secure, path: '/' });
}
