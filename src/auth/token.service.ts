import { randomUUID, type webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { errors } from '../errors/app-error.ts';
import type { RevocationsRepository } from './revocations.repository.ts';

const ISSUER = 'postura';
/** Distinct audiences make an access token useless at a WebSocket and a ws token useless at the API. */
const ACCESS_AUDIENCE = 'postura:access';
const WS_AUDIENCE = 'postura:ws';
/** Subject of ws tokens the API issues to itself, to use its own model servers (no user behind them). */
export const SERVICE_SUBJECT = 'service:postura';
/** The client family whose login issued an access token (the `fam` claim); each family's routes have a lifetime. */
export type TokenFamily = 'studio' | 'live';
const FAMILIES: readonly string[] = ['studio', 'live'] satisfies TokenFamily[];

export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export interface VerifiedToken {
  userId: string;
  jti: string;
  expiresAt: Date;
  issuedAt: Date;
  /** Access tokens: the family that issued it; absent on older tokens and on the API's own service tokens. */
  family?: TokenFamily;
  /** ws tokens: the id of the access token that asked for it (logging that one out revokes this one too). */
  parentJti?: string;
  /** ws tokens: when that access token expires, so a socket opened with this one closes then too. */
  parentExpiresAt?: Date;
}

export interface TokenServiceDeps {
  secret: string;
  revocations: RevocationsRepository;
  wsTokenTtlSeconds: number;
}

/** Verified access tokens remembered at most (each until it expires); ~0.5 KB each. */
const VERIFIED_CACHE_SIZE = 10_000;

export class TokenService {
  /** Imported once: handing jose the raw bytes imported a key on every call (~half of a verification's cost). */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /**
   * Access tokens already verified, by their exact text: the signature and claims of the same bytes cannot change,
   * so a repeat presentation skips the HMAC (tens of microseconds, as much as a whole unauthenticated request).
   * Expiry is checked again on every hit; revocation is never cached here (verifyAccessToken asks each time).
   */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_CACHE_SIZE });

  constructor(private readonly deps: TokenServiceDeps) {
    this.key = crypto.subtle.importKey('raw', new TextEncoder().encode(deps.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  issueAccessToken(userId: string, ttlSeconds: number, family?: TokenFamily): Promise<IssuedToken> {
    return this.sign(userId, ACCESS_AUDIENCE, ttlSeconds, undefined, undefined, family);
  }

  /** `parentJti`: the access token asking for it; while that one is revoked, this one is refused too. */
  issueWsToken(userId: string, parentJti?: string, parentExpiresAt?: Date): Promise<IssuedToken> {
    return this.sign(userId, WS_AUDIENCE, this.deps.wsTokenTtlSeconds, parentJti, parentExpiresAt);
  }

  /** Accepts a valid, unexpired, unrevoked access token. */
  async verifyAccessToken(token: string): Promise<VerifiedToken> {
    const verified = await this.verifyAccess(token);
    if (await this.deps.revocations.isRevoked(verified.jti)) throw errors.invalidToken('Token has been revoked');
    return verified;
  }

  /**
   * Accepts a ws token exactly once (its id is burnt by the same statement that checks it), and never after the
   * access token that asked for it was logged out.
   */
  async consumeWsToken(token: string): Promise<VerifiedToken> {
    const verified = await this.verify(token, WS_AUDIENCE);
    if (verified.parentJti && await this.deps.revocations.isRevoked(verified.parentJti)) {
      throw errors.invalidToken('Token has been revoked');
    }
    if (!(await this.deps.revocations.burnOnce(verified.jti, verified.expiresAt))) {
      throw errors.invalidToken('WebSocket token already used');
    }
    return verified;
  }

  revoke(token: VerifiedToken): Promise<void> {
    return this.deps.revocations.revoke(token.jti, 'access', token.expiresAt);
  }

  private async sign(
    userId: string, audience: string, ttlSeconds: number, parentJti?: string, parentExpiresAt?: Date,
    family?: TokenFamily,
  ): Promise<IssuedToken> {
    const jti = randomUUID();
    const issuedAt = Math.floor(Date.now() / 1000);
    const claims: Record<string, string | number> = {};
    if (parentJti) claims.sid = parentJti;
    if (parentExpiresAt) claims.sexp = Math.floor(parentExpiresAt.getTime() / 1000);
    if (family) claims.fam = family;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setJti(jti)
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(await this.key);
    return { token, jti, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
  }

  private async verifyAccess(token: string): Promise<VerifiedToken> {
    const known = this.verified.get(token);
    if (known && known.expiresAt.getTime() > Date.now()) return known;
    const verified = await this.verify(token, ACCESS_AUDIENCE);
    this.verified.set(token, verified, { ttl: Math.max(1, verified.expiresAt.getTime() - Date.now()) });
    return verified;
  }

  private async verify(token: string, audience: string): Promise<VerifiedToken> {
    try {
      const { payload } = await jwtVerify(token, await this.key, { issuer: ISSUER, audience, algorithms: ['HS256'] });
      if (!payload.sub || !payload.jti || !payload.exp || !payload.iat) throw errors.invalidToken();
      const verified: VerifiedToken = {
        userId: payload.sub, jti: payload.jti, expiresAt: new Date(payload.exp * 1000), issuedAt: new Date(payload.iat * 1000),
      };
      if (typeof payload.fam === 'string' && FAMILIES.includes(payload.fam)) verified.family = payload.fam as TokenFamily;
      if (typeof payload.sid === 'string') verified.parentJti = payload.sid;
      if (typeof payload.sexp === 'number') verified.parentExpiresAt = new Date(payload.sexp * 1000);
      return verified;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw errors.invalidToken('Token has expired');
      if (error instanceof joseErrors.JOSEError || error instanceof TypeError) throw errors.invalidToken();
      throw error;
    }
  }
}
