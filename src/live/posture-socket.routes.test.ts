import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import {
  createTestApp, openTestDatabase, openTestPubSub, openTestRateLimiter, openTestStudioAdapters, testConfig, TEST_JWT_SECRET,
  type TestApp,
} from '../../test/helpers/test-app.ts';
import { buildApp } from '../app.ts';
import { createRevocationsRepository } from '../auth/revocations.repository.ts';
import { TokenService } from '../auth/token.service.ts';
import { SOCKET_CLOSE } from '../http/guarded-socket.ts';
import { migrate } from '../infra/db/migrator.ts';
import { isType, postEvents, SocketProbe, startSession } from './live.test-helper.ts';

let t: TestApp;
let baseUrl: string;
const probes: SocketProbe[] = [];
beforeAll(async () => {
  t = await createTestApp();
  baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  for (const probe of probes) probe.close();
  await t.close();
});

function connect(token?: string): SocketProbe {
  const probe = SocketProbe.connect(baseUrl, token);
  probes.push(probe);
  return probe;
}

const eventWithAngle = (angle: number) => (m: Record<string, unknown>) =>
  m.type === 'posture' && (m.event as { angle: number }).angle === angle;

describe('WebSocket /ws/posture/', () => {
  it('closes with 4001 without a token and 4003 with a bad one', async () => {
    expect((await connect().closed).code).toBe(4001);
    expect((await connect('not-a-token').closed).code).toBe(4003);
    const user = await newUser(t.app);
    await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(user.token) });
    expect((await connect(user.token).closed).code).toBe(4003);
  });

  it('accepts a ws token once', async () => {
    const user = await newUser(t.app);
    const wsToken = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json().ws_token as string;
    const first = connect(wsToken);
    expect(await first.next(isType('history'))).toEqual({ type: 'history', events: [] });
    expect((await connect(wsToken).closed).code).toBe(4003);
  });

  it("sends the user's last 5 events on open, oldest first", async () => {
    const user = await newUser(t.app);
    const sessionId = await startSession(t.app, user.token);
    await postEvents(t.app, sessionId, [1, 2, 3, 4, 5, 6, 7].map((angle) => ({ angle })));
    const probe = connect(user.token);
    const history = await probe.next(isType('history'));
    expect((history.events as Array<{ angle: number; session_id: string }>).map((e) => e.angle)).toEqual([3, 4, 5, 6, 7]);
    expect(history.events).toEqual(expect.arrayContaining([expect.objectContaining({ session_id: sessionId, label: 'Good' })]));
  });

  it("pushes each new event of the user's own sessions only", async () => {
    const [alice, bob] = [await newUser(t.app), await newUser(t.app)];
    const [aliceSocket, aliceSecondScreen, bobSocket] = [connect(alice.token), connect(alice.token), connect(bob.token)];
    await Promise.all([aliceSocket, aliceSecondScreen, bobSocket].map((p) => p.next(isType('history'))));
    const [aliceSession, bobSession, anonymous] = [
      await startSession(t.app, alice.token), await startSession(t.app, bob.token), await startSession(t.app),
    ];

    await postEvents(t.app, anonymous, { angle: 77 });
    await postEvents(t.app, aliceSession, { angle: 5 });
    const pushed = await aliceSocket.next(eventWithAngle(5));
    expect(pushed).toEqual({ type: 'posture', event: expect.objectContaining({ session_id: aliceSession, angle: 5, label: 'Good' }) });
    await aliceSecondScreen.next(eventWithAngle(5));
    await postEvents(t.app, bobSession, { angle: 22 });
    await bobSocket.next(eventWithAngle(22));
    // Bob's event was published after Alice's on the same channel order, so a leak would already have arrived.
    await postEvents(t.app, aliceSession, { angle: 6 });
    await aliceSocket.next(eventWithAngle(6));

    const angles = (p: SocketProbe) => p.messages.filter(isType('posture')).map((m) => (m.event as { angle: number }).angle);
    expect(angles(aliceSocket)).toEqual([5, 6]);
    expect(angles(bobSocket)).toEqual([22]);
  });

  it('carries label-only events (a null angle) live and in the history', async () => {
    const user = await newUser(t.app);
    const probe = connect(user.token);
    await probe.next(isType('history'));
    const sessionId = await startSession(t.app, user.token);
    expect((await postEvents(t.app, sessionId, { label: 'Mild' })).statusCode).toBe(201);
    const expected = expect.objectContaining({ session_id: sessionId, label: 'Mild', angle: null, neck_tilt: null, score: null });
    expect(await probe.next(isType('posture'))).toEqual({ type: 'posture', event: expected });
    const later = connect(user.token);
    expect(await later.next(isType('history'))).toEqual({ type: 'history', events: [expected] });
  });

  it('acknowledges client messages with {ack:true}', async () => {
    const user = await newUser(t.app);
    const probe = connect(user.token);
    await probe.opened;
    probe.socket.send('hello');
    probe.socket.send(JSON.stringify({ type: 'ping' }));
    await probe.next(isType('history'));
    await new Promise<void>((resolve) => {
      const check = () => (probe.messages.filter((m) => m.ack === true).length >= 2 ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(probe.messages).toEqual([{ type: 'history', events: [] }, { ack: true }, { ack: true }]);
  });

  it('a plain GET is told to upgrade', async () => {
    const response = await t.app.inject({ url: '/ws/posture/' });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/WebSocket/);
  });
});

/** Rejects if `promise` has not settled within `ms`: a bounded wait for the server to act. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('the end of a token ends its sockets', () => {
  it('logout closes the sockets opened with that token (4006), directly or through a ws token, and no other', async () => {
    const [user, bystander] = [await newUser(t.app), await newUser(t.app)];
    const wsToken = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json().ws_token as string;
    const [direct, viaWsToken, other] = [connect(user.token), connect(wsToken), connect(bystander.token)];
    await Promise.all([direct, viaWsToken, other].map((p) => p.next(isType('history'))));

    expect((await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(user.token) })).statusCode).toBe(200);
    expect(await within(direct.closed, 5_000, 'close')).toEqual({ code: SOCKET_CLOSE.loggedOut, reason: 'Logged out' });
    expect(await within(viaWsToken.closed, 5_000, 'close')).toEqual({ code: SOCKET_CLOSE.loggedOut, reason: 'Logged out' });
    other.socket.send('still here');
    await other.next((m) => m.ack === true);
  });

  it("closes a socket at its token's expiry (4005)", async () => {
    const user = await newUser(t.app);
    const tokens = new TokenService({
      secret: TEST_JWT_SECRET, revocations: createRevocationsRepository(t.database.db), wsTokenTtlSeconds: 300,
    });
    const shortLived = await tokens.issueAccessToken(user.id, 3);
    const probe = connect(shortLived.token);
    await probe.next(isType('history'));
    const closed = await within(probe.closed, 10_000, 'close at expiry');
    expect(closed).toEqual({ code: SOCKET_CLOSE.tokenExpired, reason: 'Token expired' });
    // Not before its time: JWT expiry has a resolution of one second.
    expect(Date.now()).toBeGreaterThanOrEqual(shortLived.expiresAt.getTime() - 1_000);
  });

  it('a logout in one process closes the sockets opened in another', async () => {
    const db = await openTestDatabase();
    await migrate(db.database);
    const pubsub = openTestPubSub();
    const rateLimiter = openTestRateLimiter();
    const config = testConfig({ database: db.config });
    const apps: FastifyInstance[] = [];
    const adapters: Array<{ close(): Promise<void> }> = [];
    try {
      for (let i = 0; i < 2; i++) {
        const studio = await openTestStudioAdapters(db.database, config);
        adapters.push(studio);
        apps.push(await buildApp({ config, jwtSecret: TEST_JWT_SECRET, database: db.database, rateLimiter, pubsub, ...studio }));
      }
      const [a, b] = apps as [FastifyInstance, FastifyInstance];
      const urlOfB = await b.listen({ host: '127.0.0.1', port: 0 });
      const user = await newUser(a);
      const probe = SocketProbe.connect(urlOfB, user.token);
      probes.push(probe);
      await probe.next(isType('history'));
      expect((await a.inject({ method: 'POST', url: '/auth/logout', headers: bearer(user.token) })).statusCode).toBe(200);
      expect((await within(probe.closed, 5_000, 'close')).code).toBe(SOCKET_CLOSE.loggedOut);
    } finally {
      for (const app of apps) await app.close();
      for (const studio of adapters) await studio.close();
      await pubsub.close();
      await rateLimiter.close();
      await db.drop();
    }
  });
});

describe('shutdown', () => {
  it('closes open sockets with 1001 when the app closes', async () => {
    const own = await createTestApp();
    try {
      const url = await own.app.listen({ host: '127.0.0.1', port: 0 });
      const user = await newUser(own.app);
      const probe = SocketProbe.connect(url, user.token);
      await probe.next(isType('history'));
      const closing = own.app.close();
      expect(await probe.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      await closing;
    } finally {
      await own.close();
    }
  });
});
