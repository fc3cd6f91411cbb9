import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { bearer, newUser, uniqueEmail } from '../../test/helpers/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers });

describe('POST /auth/register', () => {
  it('creates the account with a trimmed, lower-cased email and returns a working token', async () => {
    const email = uniqueEmail('Reg');
    const response = await post('/auth/register', { email: `  ${email.toUpperCase()} `, name: 'Ada', password: 'password123' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ message: 'User registered successfully', name: 'Ada', user: { email: email.toLowerCase(), name: 'Ada', is_admin: false } });
    expect(body.user).not.toHaveProperty('password_hash');
    const profile = await t.app.inject({ url: '/auth/profile', headers: bearer(body.token) });
    expect(profile.json().user.id).toBe(body.user.id);
  });

  it.each([
    [{ name: 'x', password: 'password123' }],
    [{ email: uniqueEmail(), password: 'password123' }],
    [{ email: uniqueEmail(), name: 'x' }],
    [{ email: '', name: 'x', password: 'password123' }],
  ])('answers 400 "Missing required fields" for %j', async (payload) => {
    const response = await post('/auth/register', payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Missing required fields', message: 'Missing required fields', code: 'missing_fields' });
  });

  it('refuses an invalid email and a short password with 400', async () => {
    const badEmail = await post('/auth/register', { email: 'not-an-email', name: 'x', password: 'password123' });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error).toMatch(/email/i);
    const shortPassword = await post('/auth/register', { email: uniqueEmail(), name: 'x', password: 'short' });
    expect(shortPassword.statusCode).toBe(400);
    expect(shortPassword.json().error).toMatch(/at least 8/);
  });

  it('answers 409 when the email exists, whatever its case', async () => {
    const user = await newUser(t.app);
    const response = await post('/auth/register', { email: user.email.toUpperCase(), name: 'x', password: 'password123' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ error: 'User already exists' });
  });

  it('answers 400, not 500, for malformed JSON and wrong types', async () => {
    const malformed = await t.app.inject({
      method: 'POST', url: '/auth/register', payload: '{"email": "a@b.c",', headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: 'Request body is not valid JSON', code: 'invalid_request' });
    const wrongType = await post('/auth/register', { email: ['a@b.c'], name: { x: 1 }, password: 12345678 });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().code).toBe('invalid_request');
    const notObject = await post('/auth/register', [1, 2, 3]);
    expect(notObject.statusCode).toBe(400);
  });
});

describe('POST /auth/login', () => {
  it('logs in, returns both token fields and sets an HttpOnly SameSite=Lax cookie', async () => {
    const user = await newUser(t.app);
    const response = await post('/auth/login', { email: ` ${user.email.toUpperCase()}`, password: user.password });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ message: 'Login successful', user: { id: user.id, email: user.email, name: user.name } });
    expect(body.token).toBe(body.access_token);
    const cookie = response.cookies.find((c) => c.name === 'access_token_cookie');
    expect(cookie).toMatchObject({ value: body.token, httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.secure).toBeFalsy();
  });

  it('marks the cookie Secure when the request came over HTTPS through a trusted proxy', async () => {
    const proxied = await createTestApp({ trustProxy: true });
    try {
      const user = await newUser(proxied.app);
      const response = await proxied.app.inject({
        method: 'POST', url: '/auth/login', payload: { email: user.email, password: user.password },
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(response.cookies.find((c) => c.name === 'access_token_cookie')?.secure).toBe(true);
    } finally {
      await proxied.close();
    }
  });

  it('sets SameSite=None (and so Secure) for a web client on another site when COOKIE_SAMESITE=none, and clears it alike', async () => {
    const crossSite = await createTestApp({ auth: { cookieSameSite: 'none', allowedOrigins: ['https://studio.example'] } });
    try {
      const user = await newUser(crossSite.app);
      const login = await crossSite.app.inject({ method: 'POST', url: '/auth/login', payload: { email: user.email, password: user.password } });
      const cookie = login.cookies.find((c) => c.name === 'access_token_cookie');
      expect(cookie).toMatchObject({ sameSite: 'None', secure: true, httpOnly: true });
      const logout = await crossSite.app.inject({
        method: 'POST', url: '/auth/logout', cookies: { access_token_cookie: cookie!.value }, headers: { origin: 'https://studio.example' },
      });
      expect(logout.statusCode).toBe(200);
      expect(logout.cookies.find((c) => c.name === 'access_token_cookie')).toMatchObject({ value: '', sameSite: 'None', secure: true });
    } finally {
      await crossSite.close();
    }
  });

  it('answers 400 when a field is missing and 401 for wrong credentials or an unknown email', async () => {
    const user = await newUser(t.app);
    expect((await post('/auth/login', { email: user.email })).json())
      .toEqual({ error: 'Missing email or password', message: 'Missing email or password', code: 'missing_fields' });
    const wrong = await post('/auth/login', { email: user.email, password: 'wrong password' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'Invalid credentials' });
    const unknown = await post('/auth/login', { email: uniqueEmail(), password: 'whatever1' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ error: 'Invalid credentials' });
  });
});

describe('authenticated studio routes', () => {
  it('GET /auth/profile needs a token', async () => {
    const response = await t.app.inject({ url: '/auth/profile' });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('unauthenticated');
    const garbage = await t.app.inject({ url: '/auth/profile', headers: bearer('not.a.jwt') });
    expect(garbage.statusCode).toBe(401);
    expect(garbage.json().code).toBe('invalid_token');
  });

  it('GET /auth/validate-session answers logged_in true or false', async () => {
    const user = await newUser(t.app);
    const ok = await t.app.inject({ url: '/auth/validate-session', headers: bearer(user.token) });
    expect(ok.json()).toMatchObject({ logged_in: true, user: { id: user.id } });
    const anonymous = await t.app.inject({ url: '/auth/validate-session' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ logged_in: false });
    expect(anonymous.json().error).toEqual(expect.any(String));
  });

  it('POST /auth/logout revokes the token and clears the cookie', async () => {
    const user = await newUser(t.app);
    const response = await post('/auth/logout', {}, bearer(user.token));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ message: 'Logged out successfully' });
    const cleared = response.cookies.find((c) => c.name === 'access_token_cookie');
    expect(cleared?.value).toBe('');
    const after = await t.app.inject({ url: '/auth/profile', headers: bearer(user.token) });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toMatch(/revoked/);
    expect((await post('/auth/logout', {}, bearer(user.token))).statusCode).toBe(401);
    expect((await post('/auth/logout', {})).statusCode).toBe(401);
  });

  it('GET /auth/ws-token gives a 5-minute ws token that is not an access token', async () => {
    const user = await newUser(t.app);
    const response = await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ expires_in: 300, message: expect.any(String) });
    const asAccess = await t.app.inject({ url: '/auth/profile', headers: bearer(body.ws_token) });
    expect(asAccess.statusCode).toBe(401);
    expect((await t.app.inject({ url: '/auth/ws-token' })).statusCode).toBe(401);
  });
});

describe('studio error bodies', () => {
  it('carry `message` beside `error` (the web client\'s toasts read it): 400, 401, 409', async () => {
    const invalid = await post('/auth/register', { email: 'a@b.co', name: { first: 'x' }, password: 'password123' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toEqual({
      error: 'Invalid body.name: must be string', message: 'Invalid body.name: must be string', code: 'invalid_request',
    });
    const anonymous = await t.app.inject({ url: '/auth/profile' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({
      error: 'Authentication credentials were not provided.', message: 'Authentication credentials were not provided.',
      code: 'unauthenticated',
    });
    const user = await newUser(t.app);
    const taken = await post('/auth/register', { email: user.email, name: 'x', password: 'password123' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ error: 'User already exists', message: 'User already exists', code: 'email_taken' });
    const session = await t.app.inject({ url: '/auth/validate-session', headers: bearer('not.a.jwt') });
    expect(session.json()).toMatchObject({ logged_in: false, message: session.json().error });
  });

  it('leave the live family\'s `{detail, code}` as it was', async () => {
    const anonymous = await t.app.inject({ url: '/api/auth/me/' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.', code: 'unauthenticated' });
  });
});

describe('GET /auth/gen-tele-link', () => {
  it('answers 501: the messaging bot is not part of Postura; 401 without a token', async () => {
    const user = await newUser(t.app);
    const response = await t.app.inject({ url: '/auth/gen-tele-link', headers: bearer(user.token) });
    expect(response.statusCode).toBe(501);
    expect(response.json()).toEqual({
      error: 'Linking a messaging bot is not available in Postura',
      message: 'Linking a messaging bot is not available in Postura',
      code: 'not_implemented',
    });
    const anonymous = await t.app.inject({ url: '/auth/gen-tele-link' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('unauthenticated');
  });
});

describe('cookie authentication', () => {
  async function loginCookie(): Promise<string> {
    const user = await newUser(t.app);
    const response = await post('/auth/login', { email: user.email, password: user.password });
    return response.cookies.find((c) => c.name === 'access_token_cookie')!.value;
  }

  it('authenticates safe requests from the cookie alone', async () => {
    const cookie = await loginCookie();
    const response = await t.app.inject({ url: '/auth/profile', cookies: { access_token_cookie: cookie } });
    expect(response.statusCode).toBe(200);
  });

  it('refuses a cookie-only state change from a foreign or missing origin, accepts same origin', async () => {
    const cookie = await loginCookie();
    const foreign = await t.app.inject({
      method: 'POST', url: '/auth/logout', cookies: { access_token_cookie: cookie }, headers: { origin: 'https://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('origin_not_allowed');
    const none = await t.app.inject({ method: 'POST', url: '/auth/logout', cookies: { access_token_cookie: cookie } });
    expect(none.statusCode).toBe(403);
    const sameOrigin = await t.app.inject({
      method: 'POST', url: '/auth/logout', cookies: { access_token_cookie: cookie },
      headers: { host: 'postura.test', referer: 'http://postura.test/app/page' },
    });
    expect(sameOrigin.statusCode).toBe(200);
  });

  it('accepts a configured allowed origin', async () => {
    const withOrigin = await createTestApp({ auth: { allowedOrigins: ['https://app.example'] } });
    try {
      const user = await newUser(withOrigin.app);
      const login = await withOrigin.app.inject({ method: 'POST', url: '/auth/login', payload: { email: user.email, password: user.password } });
      const cookie = login.cookies.find((c) => c.name === 'access_token_cookie')!.value;
      const response = await withOrigin.app.inject({
        method: 'POST', url: '/auth/logout', cookies: { access_token_cookie: cookie }, headers: { origin: 'https://app.example' },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    } finally {
      await withOrigin.close();
    }
  });
});

describe('brute-force limits', () => {
  const login = (app: TestApp['app'], email: string, password: string, ip = '10.0.0.1') =>
    app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress: ip });

  it('count failures only: 50 right logins in a row from one IP all succeed', async () => {
    const limited = await createTestApp({ auth: { emailAttempts: 3, ipAttempts: 6, attemptWindowSeconds: 60 } });
    try {
      const user = await newUser(limited.app);
      for (let i = 0; i < 50; i++) expect((await login(limited.app, user.email, user.password)).statusCode, `login ${i}`).toBe(200);
      const live = await limited.app.inject({
        method: 'POST', url: '/api/auth/login/', payload: { email: user.email, password: user.password }, remoteAddress: '10.0.0.1',
      });
      expect(live.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('refuse an email after its failures with 429 and Retry-After; other emails from that IP still log in', async () => {
    const limited = await createTestApp({ auth: { emailAttempts: 3, ipAttempts: 6, attemptWindowSeconds: 60 } });
    try {
      const [target, other] = [await newUser(limited.app), await newUser(limited.app)];
      for (let i = 0; i < 3; i++) expect((await login(limited.app, target.email, 'wrong-password')).statusCode).toBe(401);
      const blocked = await login(limited.app, target.email, 'wrong-password', '10.0.0.3');
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(blocked.json()).toMatchObject({ code: 'rate_limited', message: 'Too many attempts, try again later' });
      // The right password does not get through a blocked email either, from any address.
      expect((await login(limited.app, target.email, target.password, '10.0.0.4')).statusCode).toBe(429);
      expect((await login(limited.app, other.email, other.password)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('clear an email\'s failures when its right password is given', async () => {
    const limited = await createTestApp({ auth: { emailAttempts: 3, ipAttempts: 100, attemptWindowSeconds: 60 } });
    try {
      const user = await newUser(limited.app);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 2; i++) expect((await login(limited.app, user.email, 'wrong-password')).statusCode).toBe(401);
        expect((await login(limited.app, user.email, user.password)).statusCode, `round ${round}`).toBe(200);
      }
      for (let i = 0; i < 3; i++) expect((await login(limited.app, user.email, 'wrong-password')).statusCode).toBe(401);
      expect((await login(limited.app, user.email, 'wrong-password')).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('refuse an IP after its failures on many emails, and after its ceiling of attempts of any outcome', async () => {
    const limited = await createTestApp({ auth: { emailAttempts: 3, ipAttempts: 6, ipAttemptCeiling: 12, attemptWindowSeconds: 60 } });
    try {
      const user = await newUser(limited.app);
      for (let i = 0; i < 6; i++) expect((await login(limited.app, uniqueEmail(), 'wrong-password', '10.0.0.9')).statusCode).toBe(401);
      expect((await login(limited.app, uniqueEmail(), 'wrong-password', '10.0.0.9')).statusCode).toBe(429);
      expect((await login(limited.app, user.email, user.password, '10.0.0.9')).statusCode).toBe(429);
      // Successes alone reach the ceiling too, and then signups are refused as well.
      for (let i = 0; i < 12; i++) expect((await login(limited.app, user.email, user.password, '10.0.0.10')).statusCode).toBe(200);
      expect((await login(limited.app, user.email, user.password, '10.0.0.10')).statusCode).toBe(429);
      const signup = await limited.app.inject({
        method: 'POST', url: '/auth/register', payload: { email: uniqueEmail(), name: 'x', password: 'password123' }, remoteAddress: '10.0.0.10',
      });
      expect(signup.statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('count a signup for a taken email as a failure, a new account only against the ceiling', async () => {
    const limited = await createTestApp({ auth: { emailAttempts: 2, ipAttempts: 3, ipAttemptCeiling: 50, attemptWindowSeconds: 60 } });
    try {
      const register = (email: string, ip: string, url = '/auth/register') => limited.app.inject({
        method: 'POST', url, payload: { email, name: 'x', password: 'password123' }, remoteAddress: ip,
      });
      for (let i = 0; i < 10; i++) expect((await register(uniqueEmail(), '10.0.1.1')).statusCode).toBe(201);
      const taken = uniqueEmail('taken');
      expect((await register(taken, '10.0.1.2')).statusCode).toBe(201);
      expect((await register(taken, '10.0.1.2')).statusCode).toBe(409);
      expect((await register(taken, '10.0.1.3', '/api/auth/signup/')).statusCode).toBe(400);
      // Two failures for this email: the third try is refused from any address, and says so in its family's shape.
      const blocked = await register(taken, '10.0.1.4', '/api/auth/signup/');
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json()).toEqual({ detail: 'Too many attempts, try again later', code: 'rate_limited' });
      // Taken emails tried from one address are that address's failures too: after its third, even a new one waits.
      for (const email of [uniqueEmail('taken'), uniqueEmail('taken')]) {
        expect((await register(email, '10.0.1.5')).statusCode).toBe(201);
        expect((await register(email, '10.0.1.2')).statusCode).toBe(409);
      }
      expect((await register(uniqueEmail(), '10.0.1.2')).statusCode).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
