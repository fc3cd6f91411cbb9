import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { buildApp } from '../../src/app.ts';
import { resolveJwtSecret } from '../../src/auth/jwt-secret.ts';
import { argon2Hasher, type PasswordHasher } from '../../src/auth/password-hasher.ts';
import { loadConfig, type Config, type DeepPartial } from '../../src/config/config.ts';
import { SocketProbe } from '../../src/live/live.test-helper.ts';
import { bearer, newUser, uniqueEmail } from '../helpers/factories.ts';
import { createTestApp, openTestRateLimiter, testConfig, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app.ts';

/**
 * SPEC section 1 (accounts and tokens), the security promises that the feature tests beside the code leave open.
 * docs/security-review.md maps every promise to the test that proves it, here or elsewhere.
 */

const COOKIE = 'access_token_cookie';
const STRONG_SECRET = 'Zq8-vN3_rT6yLw1!mK9pX4cB7hJ2sD5fG0aE';

const post = (app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}, remoteAddress?: string) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers, ...(remoteAddress ? { remoteAddress } : {}) });

async function loginCookie(app: FastifyInstance): Promise<string> {
  const user = await newUser(app);
  const response = await post(app, '/auth/login', { email: user.email, password: user.password });
  return response.cookies.find((c) => c.name === COOKIE)!.value;
}

/** argon2 with a switch: counts verifications, and can fail the way a broken native module would. */
function instrumentedHasher(): PasswordHasher & { verifications: number; broken: boolean } {
  return {
    verifications: 0,
    broken: false,
    hash: (password) => argon2Hasher.hash(password),
    async verify(passwordHash, password) {
      this.verifications += 1;
      if (this.broken) throw new Error('argon2 binding failed at /opt/postura/node_modules/@node-rs/argon2 (secret=hunter2)');
      return argon2Hasher.verify(passwordHash, password);
    },
  };
}

/**
 * Opening an embedded database is the slow part of a test app, so the differently configured apps below share the
 * default app's database, store and queue; each has its own config, rate limiter and (optionally) hasher.
 */
async function sharingApp(overrides: DeepPartial<Config>, hasher?: PasswordHasher): Promise<FastifyInstance> {
  const config = testConfig({ ...overrides, database: t.databaseConfig });
  const rateLimiter = openTestRateLimiter();
  const app = await buildApp({
    config, jwtSecret: TEST_JWT_SECRET, database: t.database, rateLimiter, store: t.store, signer: null, queue: t.queue,
    ...(hasher ? { hasher } : {}),
  });
  app.addHook('onClose', () => rateLimiter.close());
  await app.ready();
  return app;
}

/** The embedded defaults: development, no allowed origins. */
let t: TestApp;
/** A production deployment behind one allowed browser origin, with short token lifetimes and an instrumented hasher. */
let prod: FastifyInstance;
const hasher = instrumentedHasher();
/** Small brute-force budgets, and COOKIE_SECURE forced on in development. */
let limited: FastifyInstance;
beforeAll(async () => {
  t = await createTestApp();
  prod = await sharingApp({
    env: 'production', auth: { allowedOrigins: ['https://app.example'], studioTokenTtlSeconds: 120, liveTokenTtlSeconds: 240 },
  }, hasher);
  limited = await sharingApp({
    auth: { emailAttempts: 3, ipAttempts: 5, ipAttemptCeiling: 10, attemptWindowSeconds: 60, cookieSecure: true },
  });
});
afterAll(async () => {
  await prod?.close();
  await limited?.close();
  await t?.close();
});

describe('secret guard', () => {
  it('checks the secret after overrides are merged, so no code path can bring a weak one into production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: STRONG_SECRET }, { auth: { jwtSecret: 'changeme' } }))
      .toThrow(/too weak/);
    expect(() => loadConfig({ NODE_ENV: 'development' }, { env: 'production' })).toThrow(/JWT_SECRET is required/);
    // Blank counts as missing, not as a secret of spaces.
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: '   \t ' })).toThrow(/JWT_SECRET is required/);
  });

  it('outside production generates a random secret once, private to the owner, and keeps it across restarts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'postura-secret-'));
    try {
      const config = loadConfig({ DATA_DIR: dir });
      const first = await resolveJwtSecret(config);
      expect(first.length).toBeGreaterThanOrEqual(48);
      expect(first).not.toBe(await resolveJwtSecret(loadConfig({ DATA_DIR: path.join(dir, 'other') })));
      expect(await resolveJwtSecret(config)).toBe(first);
      const file = path.join(dir, 'jwt-secret');
      expect((await readFile(file, 'utf8')).trim()).toBe(first);
      expect((await stat(file)).mode & 0o077).toBe(0);
      // A configured secret always wins over the generated one.
      expect(await resolveJwtSecret(loadConfig({ DATA_DIR: dir, JWT_SECRET: STRONG_SECRET }))).toBe(STRONG_SECRET);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('passwords and accounts', () => {
  it('stores an argon2id hash, never the password', async () => {
    const user = await newUser(t.app, { password: 'plain-text-never-stored' });
    const row = await sql<{ password_hash: string }>`SELECT password_hash FROM users WHERE id = ${user.id}`.execute(t.database.db);
    const stored = row.rows[0]!.password_hash;
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    expect(stored).not.toContain('plain-text-never-stored');
  });

  it('refuses a password over 1024 characters (argon2 cost grows with input) and accepts exactly 8', async () => {
    const tooLong = await post(t.app, '/auth/register', { email: uniqueEmail(), name: 'x', password: 'p'.repeat(1025) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ code: 'invalid_request', error: expect.stringMatching(/at most 1024/) });
    const live = await post(t.app, '/api/auth/signup/', { email: uniqueEmail(), name: 'x', password: 'p'.repeat(1025) });
    expect(live.json()).toMatchObject({ detail: expect.stringMatching(/at most 1024/) });
    expect((await post(t.app, '/auth/register', { email: uniqueEmail(), name: 'x', password: '12345678' })).statusCode).toBe(201);
    expect((await post(t.app, '/auth/register', { email: uniqueEmail(), name: 'x', password: '1234567' })).statusCode).toBe(400);
  });

  it('makes no admin over HTTP, whatever the body says', async () => {
    const studio = await post(t.app, '/auth/register', { email: uniqueEmail(), name: 'x', password: 'password123', is_admin: true });
    expect(studio.statusCode).toBe(201);
    expect(studio.json().user.is_admin).toBe(false);
    expect((await t.app.inject({ url: '/api/users', headers: bearer(studio.json().token) })).statusCode).toBe(403);

    const email = uniqueEmail('live');
    const live = await post(t.app, '/api/auth/signup/', {
      email, name: 'x', password: 'password123', is_admin: true, settings: { is_admin: true, role: 'admin' },
    });
    expect(live.statusCode).toBe(201);
    const login = await post(t.app, '/auth/login', { email, password: 'password123' });
    expect(login.json().user.is_admin).toBe(false);
    expect((await t.app.inject({ url: '/api/users', headers: bearer(login.json().token) })).statusCode).toBe(403);
  });

  it('spends a password verification on an unknown email too, so timing does not tell which accounts exist', async () => {
    const before = hasher.verifications;
    const unknown = await post(prod, '/auth/login', { email: uniqueEmail(), password: 'password123' });
    expect(unknown.statusCode).toBe(401);
    expect(hasher.verifications).toBe(before + 1);
  });
});

describe('access tokens', () => {
  it('are HS256 JWTs with sub, jti, issuer, the access audience and the configured lifetimes', async () => {
    const user = await newUser(prod);
    const studio = (await post(prod, '/auth/login', { email: user.email, password: user.password })).json().token as string;
    const live = (await post(prod, '/api/auth/login/', { email: user.email, password: user.password })).json().token as string;
    expect(decodeProtectedHeader(studio).alg).toBe('HS256');
    const claims = decodeJwt(studio);
    expect(claims).toMatchObject({ sub: user.id, iss: 'postura', aud: 'postura:access', jti: expect.any(String) });
    expect(claims.exp! - claims.iat!).toBe(120);
    const liveClaims = decodeJwt(live);
    expect(liveClaims.exp! - liveClaims.iat!).toBe(240);
    expect(liveClaims.jti).not.toBe(claims.jti);
  });

  it('are refused once the user is deleted, and a validly signed token of another audience or issuer is refused', async () => {
    // The clock is the test's from the first lookup, so the user cache's bound can be passed without waiting.
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: Date.now() });
    // A fake monotonic clock starts at 0, which the cache library reads as "no start time".
    vi.advanceTimersByTime(1000);
    try {
      const user = await newUser(t.app);
      const key = new TextEncoder().encode(TEST_JWT_SECRET);
      const sign = (audience: string, issuer: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id)
        .setJti(`forged-${audience}-${issuer}`).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('1h').sign(key);
      for (const token of [await sign('postura:admin', 'postura'), await sign('postura:access', 'someone-else')]) {
        expect((await t.app.inject({ url: '/auth/profile', headers: bearer(token) })).statusCode).toBe(401);
      }
      expect((await t.app.inject({ url: '/auth/profile', headers: bearer(await sign('postura:access', 'postura')) })).statusCode).toBe(200);
      // Deleted behind the app's back (no route deletes accounts): a user served from memory is trusted for
      // USER_CACHE_SECONDS at most, so the token is refused once that bound has passed.
      await sql`DELETE FROM users WHERE id = ${user.id}`.execute(t.database.db);
      vi.advanceTimersByTime((t.config.auth.userCacheSeconds + 1) * 1000);
      const gone = await t.app.inject({ url: '/auth/profile', headers: bearer(user.token) });
      expect(gone.statusCode).toBe(401);
      expect(gone.json()).toMatchObject({ code: 'invalid_token' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the access cookie', () => {
  it('is Secure in production even over plain HTTP, HttpOnly, SameSite=Lax, Path=/, and dies with its token', async () => {
    const user = await newUser(prod);
    const login = await post(prod, '/auth/login', { email: user.email, password: user.password });
    const cookie = login.cookies.find((c) => c.name === COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect(cookie.domain).toBeUndefined();
    const exp = decodeJwt(login.json().token).exp!;
    expect(Math.abs((cookie.expires as Date).getTime() / 1000 - exp)).toBeLessThanOrEqual(1);

    const logout = await post(prod, '/auth/logout', {}, bearer(login.json().token));
    const cleared = logout.cookies.find((c) => c.name === COOKIE)!;
    // The clearing cookie must match the original's attributes, or the browser keeps the original.
    expect(cleared).toMatchObject({ value: '', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    expect((cleared.expires as Date).getTime()).toBeLessThan(Date.now());
  });

  it('is Secure over plain HTTP outside production when COOKIE_SECURE forces it', async () => {
    const user = await newUser(limited);
    const login = await post(limited, '/auth/login', { email: user.email, password: user.password }, {}, '10.3.0.1');
    expect(login.cookies.find((c) => c.name === COOKIE)?.secure).toBe(true);
  });

  it('is revoked by a cookie-only logout: the browser-held value stops working', async () => {
    const cookie = await loginCookie(t.app);
    const logout = await t.app.inject({
      method: 'POST', url: '/auth/logout', cookies: { [COOKIE]: cookie }, headers: { host: 'postura.test', origin: 'http://postura.test' },
    });
    expect(logout.statusCode).toBe(200);
    const replay = await t.app.inject({ url: '/auth/profile', cookies: { [COOKIE]: cookie } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error).toMatch(/revoked/);
  });
});

describe('origin check on cookie-authenticated state changes', () => {
  it('applies to every unsafe route, before the route runs', async () => {
    const cookie = await loginCookie(t.app);
    const attempt = (headers: Record<string, string>) => t.app.inject({
      method: 'POST', url: '/api/video/delete', payload: { session_id: 'no_such_session' }, cookies: { [COOKIE]: cookie },
      headers: { host: 'postura.test', ...headers },
    });
    const refused: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { referer: 'https://evil.example/postura.test/page' },
      { origin: 'null' },
      { origin: 'http://postura.test.evil.example' },
      { referer: 'not a url' },
      {},
    ];
    for (const headers of refused) {
      const response = await attempt(headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.json().code).toBe('origin_not_allowed');
    }
    // Same origin gets through to the route, which answers for itself (no such session).
    expect((await attempt({ origin: 'http://postura.test' })).statusCode).toBe(404);
  });

  it('matches allowed origins exactly, not by prefix', async () => {
    const cookie = await loginCookie(prod);
    for (const origin of ['https://app.example.evil.com', 'https://app.examplex', 'http://app.example', 'https://evil.com']) {
      const response = await prod.inject({ method: 'POST', url: '/auth/logout', cookies: { [COOKIE]: cookie }, headers: { origin } });
      expect(response.statusCode, origin).toBe(403);
    }
    const ok = await prod.inject({
      method: 'POST', url: '/auth/logout', cookies: { [COOKIE]: cookie }, headers: { referer: 'https://app.example/settings' },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('leaves safe methods and bearer-authenticated requests alone (no ambient credential to abuse)', async () => {
    const cookie = await loginCookie(t.app);
    const read = await t.app.inject({ url: '/auth/profile', cookies: { [COOKIE]: cookie }, headers: { origin: 'https://evil.example' } });
    expect(read.statusCode).toBe(200);
    const user = await newUser(t.app);
    const viaBearer = await post(t.app, '/auth/logout', {}, { ...bearer(user.token), origin: 'https://evil.example' });
    expect(viaBearer.statusCode).toBe(200);
  });
});

describe('brute-force limits', () => {
  it('count an email in every spelling as one budget, across both families', async () => {
    const user = await newUser(limited);
    const spellings = [user.email.toUpperCase(), `  ${user.email} `, `${user.email.toUpperCase()}\t`];
    for (const [i, email] of spellings.entries()) {
      expect((await post(limited, '/auth/login', { email, password: 'wrong-password' }, {}, `10.1.0.${i}`)).statusCode).toBe(401);
    }
    const live = await post(limited, '/api/auth/login/', { email: user.email, password: user.password }, {}, '10.1.0.9');
    expect(live.statusCode).toBe(429);
    expect(live.json()).toEqual({ detail: 'Too many attempts, try again later', code: 'rate_limited' });
    expect(Number(live.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limit registration per IP too, and a forged X-Forwarded-For does not buy a fresh budget', async () => {
    const register = (i: number, ip = '10.2.0.1') => post(limited, i % 2 ? '/api/auth/signup/' : '/auth/register',
      { email: uniqueEmail('flood'), name: 'x', password: 'password123' }, { 'x-forwarded-for': `203.0.113.${i}` }, ip);
    // New accounts spend only the generous per-IP ceiling (10 here), not the failure budget (5).
    for (let i = 0; i < 10; i++) expect((await register(i)).statusCode).toBe(201);
    const blocked = await register(10);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ error: 'Too many attempts, try again later', code: 'rate_limited' });
    // Another client is not punished for it.
    expect((await register(12, '10.2.0.2')).statusCode).toBe(201);
  });
});

describe('ws tokens at the analysis socket', () => {
  let baseUrl: string;
  const probes: SocketProbe[] = [];
  beforeAll(async () => {
    baseUrl = (await t.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
  });
  afterAll(() => {
    for (const probe of probes) probe.socket.close();
  });
  const connect = (query: string) => {
    const probe = new SocketProbe(new WebSocket(`${baseUrl}/ws/analysis${query}`));
    probes.push(probe);
    return probe;
  };

  it('live 5 minutes under their own audience, work once, and an access token is no ws token', async () => {
    const user = await newUser(t.app);
    const { ws_token: wsToken } = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json();
    const claims = decodeJwt(wsToken);
    expect(claims).toMatchObject({ sub: user.id, aud: 'postura:ws' });
    expect(claims.exp! - claims.iat!).toBe(300);

    expect((await connect('').closed).code).toBe(4001);
    expect((await connect(`?token=${user.token}`).closed).code).toBe(4003);
    const first = connect(`?token=${wsToken}`);
    expect(await first.next((m) => m.type === 'connected')).toEqual({ type: 'connected', user_id: user.id });
    expect((await connect(`?token=${wsToken}`).closed).code).toBe(4003);

    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setJti('expired-ws')
      .setIssuer('postura').setAudience('postura:ws').setIssuedAt(1_000).setExpirationTime(1_300)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect((await connect(`?token=${expired}`).closed).code).toBe(4003);
  });

  it('die with the access token that asked for them: a ws token issued before logout is refused after it', async () => {
    const user = await newUser(t.app);
    const { ws_token: beforeLogout } = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json();
    const other = await newUser(t.app);
    const { ws_token: otherToken } = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(other.token) })).json();
    expect((await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(user.token) })).statusCode).toBe(200);

    expect((await connect(`?token=${beforeLogout}`).closed).code).toBe(4003);
    // Someone else's logout changes nothing for them.
    expect(await connect(`?token=${otherToken}`).next((m) => m.type === 'connected')).toEqual({ type: 'connected', user_id: other.id });
  });
});

describe('errors and headers', () => {
  it('answers an internal failure with a generic body in each family: no message, path or stack', async () => {
    const user = await newUser(prod);
    hasher.broken = true;
    try {
      const studio = await post(prod, '/auth/login', { email: user.email, password: user.password });
      expect(studio.statusCode).toBe(500);
      expect(studio.json()).toEqual({ error: 'Internal server error', message: 'Internal server error', code: 'internal' });
      const live = await post(prod, '/api/auth/login/', { email: user.email, password: user.password });
      expect(live.statusCode).toBe(500);
      expect(live.json()).toEqual({ detail: 'Internal server error', code: 'internal' });
      for (const body of [studio.body, live.body]) expect(body).not.toMatch(/argon2|node_modules|hunter2|at .*:\d+/);
    } finally {
      hasher.broken = false;
    }
  });

  it('sends helmet security headers on answers and errors alike, and no X-Powered-By', async () => {
    for (const response of [await t.app.inject({ url: '/api/health' }), await t.app.inject({ url: '/auth/profile' })]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringMatching(/max-age=\d+/),
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'x-dns-prefetch-control': 'off',
      });
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('sends no CORS headers when no origin is allowed, whoever asks', async () => {
    const response = await t.app.inject({ url: '/api/health', headers: { origin: 'https://evil.example' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.app.inject({
      method: 'OPTIONS', url: '/auth/logout', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('with allowed origins, answers only those, with credentials and never a wildcard', async () => {
    const allowed = await prod.inject({ url: '/api/health', headers: { origin: 'https://app.example' } });
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example', 'access-control-allow-credentials': 'true',
    });
    expect(String(allowed.headers.vary)).toMatch(/Origin/i);
    const preflight = await prod.inject({
      method: 'OPTIONS', url: '/auth/logout', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    // Without an Allow-Origin of its own the browser refuses the answer (Allow-Credentials alone grants nothing).
    for (const origin of ['https://evil.example', 'https://app.example.evil.com', 'null']) {
      const refused = await prod.inject({
        method: 'OPTIONS', url: '/auth/logout', headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect(refused.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
  });
});
