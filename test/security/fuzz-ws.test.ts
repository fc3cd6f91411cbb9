import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isType, postEvents, SocketProbe, startSession } from '../../src/live/live.test-helper.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { expectFamilyErrorBody, expectHealthy, fuzzParams, nastyJson, nastyString, percentEncode, type Family } from '../helpers/fuzz.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * The two WebSocket endpoints (`/ws/posture/` live, `/ws/analysis` studio) on a real listening server, under
 * hostile tokens, hostile messages and malformed upgrade requests. Properties: a bad token is refused (close
 * 4001/4003, or a 4xx in the family's shape before the upgrade), never anything else and never a 5xx; every client
 * message gets exactly one `{ack:true}`; the server keeps delivering events and answering /api/health.
 */

let t: TestApp;
let baseUrl: string;
let user: TestUser;
const opened: WebSocket[] = [];

const ENDPOINTS: Array<{ path: string; family: Family }> = [{ path: '/ws/posture/', family: 'live' }, { path: '/ws/analysis', family: 'studio' }];

type Outcome =
  | { kind: 'refused before upgrade'; status: number; body: string }
  | { kind: 'closed'; code: number; messages: unknown[] };

/** Connects and waits for the server's verdict on a token: an HTTP refusal, or a close after the upgrade. */
function verdict(url: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    opened.push(socket);
    const messages: unknown[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ kind: 'refused before upgrade', status: response.statusCode ?? 0, body }));
    });
    socket.on('close', (code) => resolve({ kind: 'closed', code, messages }));
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

function expectRefused(outcome: Outcome, family: Family, expectedClose: number[], what: string): void {
  if (outcome.kind === 'refused before upgrade') {
    expect(outcome.status, `${what}: ${outcome.body}`).toBeGreaterThanOrEqual(400);
    expect(outcome.status, `${what}: ${outcome.body}`).toBeLessThan(500);
    expectFamilyErrorBody(outcome.body, family, what);
  } else {
    expect(expectedClose, `${what}: closed ${outcome.code}`).toContain(outcome.code);
    // Refused means refused: no history, no "connected", nothing of the user's.
    expect(outcome.messages, what).toEqual([]);
  }
}

const wsUrl = (path: string, query: string) => `${baseUrl.replace(/^http/, 'ws')}${path}${query}`;
const wsToken = async (who: TestUser) => (await t.app.inject({ url: '/auth/ws-token', headers: bearer(who.token) })).json().ws_token as string;

beforeAll(async () => {
  t = await createTestApp();
  baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
  user = await newUser(t.app);
});
afterAll(async () => {
  for (const socket of opened) socket.terminate();
  await t?.close();
});
afterEach(async () => {
  await expectHealthy(t.app);
});

describe('fuzz: WebSocket endpoints', () => {
  for (const { path, family } of ENDPOINTS) {
    it(`${path}: hostile tokens and query strings are refused`, async () => {
      const fixed = [
        { query: '', close: [4001] }, { query: '?token=', close: [4001] }, { query: '?token', close: [4001] },
        { query: '?token[]=x', close: [4001] }, { query: '?token=a&token=b', close: [4003] }, { query: '?token=%zz', close: [4003] },
        { query: `?token=${'a'.repeat(8_000)}`, close: [4003] }, { query: '?token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', close: [4003] },
      ];
      for (const { query, close } of fixed) expectRefused(await verdict(wsUrl(path, query)), family, close, `${path}${query.slice(0, 60)}`);
      await fc.assert(fc.asyncProperty(nastyString.filter((token) => token !== ''), async (token) => {
        const query = `?token=${percentEncode(token)}`;
        expectRefused(await verdict(wsUrl(path, query)), family, [4003], `${path}${query.slice(0, 60)}`);
      }), fuzzParams(20));
    });
  }

  it('/ws/analysis takes only an unused ws token: an access token or a burnt ws token is refused', async () => {
    expectRefused(await verdict(wsUrl('/ws/analysis', `?token=${user.token}`)), 'studio', [4003], 'access token');
    const token = await wsToken(user);
    const first = new SocketProbe(new WebSocket(wsUrl('/ws/analysis', `?token=${token}`)));
    opened.push(first.socket);
    expect(await first.next(isType('connected'))).toEqual({ type: 'connected', user_id: user.id });
    expectRefused(await verdict(wsUrl('/ws/analysis', `?token=${token}`)), 'studio', [4003], 'burnt ws token');
  });

  const messages = fc.array(fc.oneof(
    nastyString.map((text) => ({ data: text, binary: false })),
    nastyJson.map((value) => ({ data: JSON.stringify(value) ?? 'null', binary: false })),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })),
    fc.constantFrom({ data: '{"type":"history","events":[]}', binary: false }, { data: '{"ack":true}', binary: false },
      { data: 'x'.repeat(200_000), binary: false }, { data: Buffer.alloc(0), binary: true }),
  ), { minLength: 1, maxLength: 6 });

  for (const path of ['/ws/posture/', '/ws/analysis']) {
    it(`${path}: every client message, whatever it holds, gets exactly one {ack:true}`, async () => {
      const token = path === '/ws/analysis' ? await wsToken(user) : user.token;
      const probe = new SocketProbe(new WebSocket(wsUrl(path, `?token=${token}`)));
      opened.push(probe.socket);
      await probe.next(isType(path === '/ws/analysis' ? 'connected' : 'history'));
      let sent = 0;
      const acks = () => probe.messages.filter((m) => m.ack === true).length;
      await fc.assert(fc.asyncProperty(messages, async (batch) => {
        for (const { data, binary } of batch) probe.socket.send(data, { binary });
        sent += batch.length;
        await until(() => acks() >= sent, `${sent} acks (have ${acks()})`);
        expect(acks()).toBe(sent);
      }), fuzzParams(15));
      expect(probe.socket.readyState).toBe(WebSocket.OPEN);
      if (path === '/ws/posture/') {
        // Still a working feed: a new event of the user's session arrives.
        const sessionId = await startSession(t.app, user.token);
        expect((await postEvents(t.app, sessionId, { angle: 42 })).statusCode).toBe(201);
        const pushed = await probe.next((m) => m.type === 'posture' && (m.event as { angle: number }).angle === 42);
        expect(pushed).toMatchObject({ type: 'posture', event: { session_id: sessionId, angle: 42 } });
      }
      probe.close();
    });
  }

  it('a message over the size limit closes only that socket (1009); the server and other sockets carry on', async () => {
    const bystander = new SocketProbe(new WebSocket(wsUrl('/ws/posture/', `?token=${user.token}`)));
    const big = new SocketProbe(new WebSocket(wsUrl('/ws/posture/', `?token=${user.token}`)));
    opened.push(bystander.socket, big.socket);
    await Promise.all([bystander.next(isType('history')), big.next(isType('history'))]);
    big.socket.send(Buffer.alloc(1024 * 1024 + 1, 0x61));
    expect((await big.closed).code).toBe(1009);
    bystander.socket.send('still there?');
    expect(await bystander.next((m) => m.ack === true)).toEqual({ ack: true });
  });

  it('malformed upgrade requests get a 4xx and leave the server running', async () => {
    const requests = fc.record({
      path: fc.constantFrom('/ws/posture/?token=x', '/ws/analysis?token=x'),
      version: fc.constantFrom('13', '8', '99', 'abc', ''),
      key: fc.constantFrom(randomBytes(16).toString('base64'), 'short', '', '%%%', 'x'.repeat(500)),
      upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', ''),
    });
    await fc.assert(fc.asyncProperty(requests, async ({ path, version, key, upgrade }) => {
      const valid = version === '13' && key.length === 24 && upgrade.toLowerCase() === 'websocket';
      const head = [`GET ${path} HTTP/1.1`, 'Host: localhost', 'Connection: Upgrade', upgrade && `Upgrade: ${upgrade}`,
        version && `Sec-WebSocket-Version: ${version}`, key && `Sec-WebSocket-Key: ${key}`].filter(Boolean).join('\r\n');
      const status = await rawStatus(`${head}\r\n\r\n`);
      if (valid) expect(status).toBe(101);
      else expect(status, head).toBeGreaterThanOrEqual(400);
      expect(status, head).toBeLessThan(500);
    }), fuzzParams(20));
  });
});

/** Sends raw bytes to the server and reads the status code of its first answer line. */
function rawStatus(request: string): Promise<number> {
  const port = Number(new URL(baseUrl).port);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without an answer: ${head.slice(0, 100)}`)));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
