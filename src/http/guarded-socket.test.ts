import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { MemoryPubSub } from '../infra/pubsub/memory-pubsub.ts';
import { isType, postEvents, SocketProbe, startSession } from '../live/live.test-helper.ts';
import { SOCKET_CLOSE, SocketGuard, type SocketLimits } from './guarded-socket.ts';

/** The app's WebSockets under hostile clients, on a real listening server (loopback only). */
let t: TestApp;
let base: string;
const opened: WebSocket[] = [];
const LIMITS = { maxPerUser: 2, messagesPerSecond: 5, messageBurst: 20 };

beforeAll(async () => {
  t = await createTestApp({ sockets: LIMITS });
  base = (await t.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
});
afterAll(async () => {
  for (const socket of opened) socket.terminate();
  await t?.close();
});

function probe(path: string): SocketProbe {
  const socket = new SocketProbe(new WebSocket(`${base}${path}`));
  opened.push(socket.socket);
  return socket;
}

async function wsToken(user: TestUser): Promise<string> {
  return (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json().ws_token as string;
}

/** Resolves once `test` holds, polling; fails at the deadline. */
async function until(test: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The server's side of the socket a client just opened (the one it did not know before). */
function serverSideOf(known: Set<unknown>): WebSocket {
  const found = [...t.app.websocketServer.clients].filter((socket) => !known.has(socket));
  if (found.length !== 1) throw new Error(`expected one new server socket, found ${found.length}`);
  return found[0]!;
}

describe('guarded WebSockets', () => {
  it('closes a client that floods tiny messages and never reads (4029); its unsent bytes stay bounded', async () => {
    const user = await newUser(t.app);
    const known = new Set<unknown>(t.app.websocketServer.clients);
    const client = probe(`/ws/posture/?token=${user.token}`);
    await client.next(isType('history'));
    const server = serverSideOf(known);
    client.socket.pause();

    // Before the guard, every one of these was acked into the server's memory and the socket never closed.
    let sent = 0;
    while (server.readyState === WebSocket.OPEN && sent < 5_000) {
      for (let i = 0; i < 99; i++) client.socket.send('x');
      await new Promise((resolve) => client.socket.send('x', resolve));
      sent += 100;
    }
    await until(() => server.readyState !== WebSocket.OPEN, `the server to close the flooder (sent ${sent})`);
    // At most the burst's acks and the close frame wait for this client.
    expect(server.bufferedAmount).toBeLessThan(4 * 1024);
    client.socket.resume();
    expect(await client.closed).toEqual({ code: SOCKET_CLOSE.tooManyMessages, reason: 'Too many messages' });
    expect(client.messages.filter((m) => m.ack === true).length).toBeLessThanOrEqual(LIMITS.messageBurst);
  });

  it('closes a client over the message rate on /ws/analysis too, and keeps a client within it', async () => {
    const [user, calmUser] = [await newUser(t.app), await newUser(t.app)];
    const calm = probe(`/ws/posture/?token=${calmUser.token}`);
    const analysis = probe(`/ws/analysis?token=${await wsToken(user)}`);
    await Promise.all([calm.next(isType('history')), analysis.next(isType('connected'))]);

    for (let i = 0; i < 10; i++) calm.socket.send('hi');
    for (let i = 0; i < 200; i++) analysis.socket.send('x');
    expect(await analysis.closed).toEqual({ code: SOCKET_CLOSE.tooManyMessages, reason: 'Too many messages' });
    await until(() => calm.messages.filter((m) => m.ack === true).length === 10, '10 acks');
    expect(calm.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("refuses a user's socket over the cap (4009) across both endpoints, and the first ones keep working", async () => {
    const [user, other] = [await newUser(t.app), await newUser(t.app)];
    const feed = probe(`/ws/posture/?token=${user.token}`);
    const progress = probe(`/ws/analysis?token=${await wsToken(user)}`);
    await Promise.all([feed.next(isType('history')), progress.next(isType('connected'))]);

    const third = probe(`/ws/posture/?token=${user.token}`);
    expect(await third.closed).toEqual({ code: SOCKET_CLOSE.tooManySockets, reason: 'Too many open sockets (at most 2 per user)' });
    expect(third.messages).toEqual([]);
    const fourth = probe(`/ws/analysis?token=${await wsToken(user)}`);
    expect((await fourth.closed).code).toBe(SOCKET_CLOSE.tooManySockets);
    expect(fourth.messages).toEqual([]);
    // Another user has a cap of their own.
    await probe(`/ws/posture/?token=${other.token}`).next(isType('history'));

    const sessionId = await startSession(t.app, user.token);
    await postEvents(t.app, sessionId, { angle: 12 });
    await feed.next((m) => m.type === 'posture');
    progress.socket.send('ping');
    await progress.next((m) => m.ack === true);

    // A closed socket gives its place back.
    const before = t.app.websocketServer.clients.size;
    feed.close();
    await feed.closed;
    await until(() => t.app.websocketServer.clients.size === before - 1, 'the server to drop the closed socket');
    await probe(`/ws/posture/?token=${user.token}`).next(isType('history'));
  });
});

/** Just enough of a ws socket to watch what the guard does with it: sends pile up, as with a client that never reads. */
class UnreadSocket extends EventEmitter {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  closedWith: number | null = null;
  send(message: string): void {
    this.bufferedAmount += Buffer.byteLength(message);
  }
  close(code: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }
}

describe('GuardedSocket sends', () => {
  const limits: SocketLimits = { maxPerUser: 10, messagesPerSecond: 1e9, messageBurst: 1e9, maxBufferedBytes: 1_000 };

  it('closes a client over its send buffer (4008) and sends nothing more: at most the limit plus one message stays', () => {
    const socket = new UnreadSocket();
    const guarded = new SocketGuard({ limits, pubsub: new MemoryPubSub() }).guard(socket as never, () => {});
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) if (guarded.send('x'.repeat(100))) accepted++;
    expect(socket.closedWith).toBe(SOCKET_CLOSE.tooSlow);
    expect(accepted).toBe(11);
    expect(socket.bufferedAmount).toBeLessThanOrEqual(limits.maxBufferedBytes + 100);
  });
});
