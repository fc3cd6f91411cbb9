import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../../test/helpers/test-app.ts';
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

async function signup(overrides: Record<string, unknown> = {}) {
  const body = { name: 'Lin', email: uniqueEmail('live'), password: 'password123', ...overrides };
  return { body, response: await post('/api/auth/signup/', body) };
}

describe('POST /api/auth/signup/', () => {
  it('answers 201 {id, email} and keeps the settings', async () => {
    const { body, response } = await signup({ settings: { units: 'metric', reminders: true } });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ id: expect.any(String), email: body.email });
    const login = await post('/api/auth/login/', { email: body.email, password: body.password });
    const me = await t.app.inject({ url: '/api/auth/me/', headers: bearer(login.json().token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      id: response.json().id, email: body.email, name: 'Lin', created_at: expect.any(String),
      settings: { units: 'metric', reminders: true },
    });
  });

  it('answers 400 {detail} for missing fields, bad values and a taken email', async () => {
    const missing = await post('/api/auth/signup/', { email: uniqueEmail() });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ detail: 'Missing required fields: name, password', code: 'missing_fields' });
    expect((await signup({ password: 'short' })).response.json()).toMatchObject({ detail: expect.stringMatching(/at least 8/) });
    expect((await signup({ settings: 'dark' })).response.statusCode).toBe(400);
    const { body } = await signup();
    const taken = await post('/api/auth/signup/', { ...body, email: body.email.toUpperCase() });
    expect(taken.statusCode).toBe(400);
    expect(taken.json()).toEqual({ detail: 'Email already registered', code: 'email_taken' });
  });

  it('answers 400 {detail} for malformed JSON', async () => {
    const response = await t.app.inject({
      method: 'POST', url: '/api/auth/signup/', payload: '{"name":', headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: 'Request body is not valid JSON', code: 'invalid_request' });
  });
});

describe('POST /api/auth/login/ and GET /api/auth/me/', () => {
  it('answers 401 {detail:"Invalid credentials"} for a wrong password', async () => {
    const { body } = await signup();
    const response = await post('/api/auth/login/', { email: body.email, password: 'nope-nope' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ detail: 'Invalid credentials', code: 'invalid_credentials' });
  });

  it('accepts "Token <t>" as well as "Bearer <t>", and refuses no token with {detail}', async () => {
    const { body } = await signup();
    const { token } = (await post('/api/auth/login/', body)).json();
    const viaToken = await t.app.inject({ url: '/api/auth/me/', headers: { authorization: `Token ${token}` } });
    expect(viaToken.statusCode).toBe(200);
    const anonymous = await t.app.inject({ url: '/api/auth/me/' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.', code: 'unauthenticated' });
  });

  it('issues live tokens that last 7 days and studio tokens that last 3 hours', async () => {
    const { body } = await signup();
    const live = (await post('/api/auth/login/', body)).json().token as string;
    const studio = (await post('/auth/login', body)).json().token as string;
    const lifetime = (token: string) => {
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      return payload.exp - payload.iat;
    };
    expect(lifetime(live)).toBe(7 * 24 * 3600);
    expect(lifetime(studio)).toBe(3 * 3600);
  });
});

describe('one user table for both families', () => {
  it('an account made in the studio family logs in through the live family, and back', async () => {
    const studioUser = await newUser(t.app);
    const live = await post('/api/auth/login/', { email: studioUser.email, password: studioUser.password });
    expect(live.statusCode).toBe(200);
    const me = await t.app.inject({ url: '/api/auth/me/', headers: bearer(live.json().token) });
    expect(me.json().id).toBe(studioUser.id);

    const { body, response } = await signup();
    const studio = await post('/auth/login', { email: body.email, password: body.password });
    expect(studio.statusCode).toBe(200);
    expect(studio.json().user.id).toBe(response.json().id);
    const profile = await t.app.inject({ url: '/auth/profile', headers: bearer(live.json().token) });
    expect(profile.json().user.id).toBe(studioUser.id);
  });

  it('a token logged out in one family is refused by the other', async () => {
    const user = await newUser(t.app);
    await post('/auth/logout', {}, bearer(user.token));
    const me = await t.app.inject({ url: '/api/auth/me/', headers: bearer(user.token) });
    expect(me.statusCode).toBe(401);
    expect(me.json()).toMatchObject({ code: 'invalid_token' });
  });

  it('a ws token is not accepted as an access token by either family', async () => {
    const user = await newUser(t.app);
    const wsToken = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json().ws_token;
    expect((await t.app.inject({ url: '/api/auth/me/', headers: bearer(wsToken) })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/auth/profile', headers: bearer(wsToken) })).statusCode).toBe(401);
  });
});

describe('look-alike emails are one account, or refused', () => {
  // uniqueEmail starts with the prefix, so its first letter can be swapped for a look-alike.
  const lookalike = (email: string, first: string) => `${first}${email.slice(1)}`;

  it('a fullwidth letter or a zero-width space logs into the plain account, in both families', async () => {
    const { body, response } = await signup({ email: uniqueEmail('alice') });
    const id = response.json().id;
    const fullwidth = await post('/auth/login', { email: lookalike(body.email, '\uFF41'), password: body.password });
    expect(fullwidth.statusCode).toBe(200);
    expect(fullwidth.json().user).toMatchObject({ id, email: body.email });
    const zeroWidth = await post('/api/auth/login/', { email: `al\u200Bi\uFEFF${body.email.slice(3)}`, password: body.password });
    expect(zeroWidth.statusCode).toBe(200);
    const me = await t.app.inject({ url: '/api/auth/me/', headers: bearer(zeroWidth.json().token) });
    expect(me.json().id).toBe(id);
    const again = await post('/auth/register', { email: `a\u200Dl${body.email.slice(2)}`, name: 'Eve', password: 'password123' });
    expect(again.statusCode).toBe(409);
  });

  it('refuses a Cyrillic а in a Latin address at signup with 400 in each family\'s shape', async () => {
    const email = lookalike(uniqueEmail('alice'), '\u0430');
    const live = await post('/api/auth/signup/', { name: 'Eve', email, password: 'password123' });
    expect(live.statusCode).toBe(400);
    expect(live.json()).toEqual({ detail: expect.stringMatching(/mixes Latin and Cyrillic/), code: 'invalid_request' });
    const studio = await post('/auth/register', { email, name: 'Eve', password: 'password123' });
    expect(studio.statusCode).toBe(400);
    expect(studio.json()).toMatchObject({ message: expect.stringMatching(/mixes Latin and Cyrillic/), code: 'invalid_request' });
    const domain = await post('/auth/register', { email: 'eve@ex\u0430mple.com', name: 'Eve', password: 'password123' });
    expect(domain.statusCode).toBe(400);
    const dotless = await post('/api/auth/signup/', { name: 'Eve', email: `al\u0131ce-${Date.now()}@example.com`, password: 'password123' });
    expect(dotless.json()).toMatchObject({ detail: expect.stringMatching(/dotless/), code: 'invalid_request' });
  });
});

/** An access token as a family's login would have issued it `ageSeconds` ago. */
function agedToken(userId: string, family: 'studio' | 'live', ageSeconds: number, ttlSeconds: number): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000) - ageSeconds;
  return new SignJWT({ fam: family }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(userId)
    .setJti(randomUUID()).setIssuer('postura').setAudience('postura:access').setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds).sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

describe('each family\'s routes enforce their own token lifetime', () => {
  it('a live token older than the studio lifetime (3 h) is refused by studio routes, still good on live ones', async () => {
    const { body, response } = await signup();
    const login = (await post('/api/auth/login/', body)).json().token as string;
    const claims = JSON.parse(Buffer.from(login.split('.')[1]!, 'base64url').toString());
    expect(claims.fam).toBe('live');
    const aged = await agedToken(response.json().id, 'live', 3 * 3600 + 60, 7 * 24 * 3600);
    expect((await t.app.inject({ url: '/api/auth/me/', headers: bearer(aged) })).statusCode).toBe(200);
    const profile = await t.app.inject({ url: '/auth/profile', headers: bearer(aged) });
    expect(profile.statusCode).toBe(401);
    expect(profile.json()).toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/log in again/) });
    const session = await t.app.inject({ url: '/auth/validate-session', headers: bearer(aged) });
    expect(session.json()).toMatchObject({ logged_in: false });
    expect((await t.app.inject({ url: '/auth/ws-token', headers: bearer(aged) })).statusCode).toBe(401);
    const young = await agedToken(response.json().id, 'live', 3 * 3600 - 60, 7 * 24 * 3600);
    expect((await t.app.inject({ url: '/auth/profile', headers: bearer(young) })).statusCode).toBe(200);
  });
});
