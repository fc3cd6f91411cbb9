import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';

const HEADERS_TIMEOUT_MS = 400;
const BODY_TIMEOUT_MS = 400;
const IDLE_TIMEOUT_MS = 1_000;
/** Node checks head deadlines every quarter of the timeout; the rest is scheduling on a busy test machine. */
const SLACK_MS = HEADERS_TIMEOUT_MS / 4 + 1_000;

let t: TestApp;
let port: number;
let user: TestUser;

beforeAll(async () => {
  t = await createTestApp({
    http: { headersTimeoutMs: HEADERS_TIMEOUT_MS, bodyTimeoutMs: BODY_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS },
  });
  user = await newUser(t.app);
  port = Number(new URL(await t.app.listen({ host: '127.0.0.1', port: 0 })).port);
});
afterAll(async () => {
  await t.close();
});

/**
 * Opens a loopback connection, writes `head`, then one byte of `drip` every `everyMs` (at most `drip.length` bytes,
 * so the attack is bounded), and resolves when the server closes the connection, with what it answered and when.
 */
function trickle(head: Buffer | string, drip: string, everyMs: number): Promise<{ elapsedMs: number; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < drip.length && !socket.destroyed) socket.write(drip[sent++]!);
    }, everyMs);
    socket.on('data', (chunk) => { answer += chunk.toString(); });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ elapsedMs: Date.now() - started, answer });
    });
    socket.write(head);
  });
}

describe('HTTP server timeouts', () => {
  it('closes a connection that sends its headers one byte at a time within the header timeout', async () => {
    const { elapsedMs, answer } = await trickle('GET /api/health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: '.padEnd(400, 'a'), 20);
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('closes a JSON body trickled in more slowly than the body timeout allows', async () => {
    const body = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(100) });
    const head = `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { elapsedMs, answer } = await trickle(head, body, 20);
    expect(answer).toBe('');
    expect(elapsedMs).toBeLessThan(BODY_TIMEOUT_MS + SLACK_MS);
  });

  it('closes an upload that stalls for the idle timeout', async () => {
    const { payload, headers } = multipart([{ name: 'session_id', value: 'stalled' }, { name: 'front', filename: 'a.jpg', content: Buffer.alloc(4096) }]);
    const head = `POST /api/video/upload HTTP/1.1\r\nHost: x\r\nAuthorization: ${bearer(user.token).authorization}\r\n`
      + `Content-Type: ${headers['content-type']}\r\nContent-Length: ${payload.length}\r\n\r\n`;
    const { elapsedMs } = await trickle(Buffer.concat([Buffer.from(head), payload.subarray(0, 300)]), '', 1_000);
    expect(elapsedMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
    expect(elapsedMs).toBeLessThan(IDLE_TIMEOUT_MS + SLACK_MS);
  });

  it('keeps an upload that takes longer than the header and body timeouts as long as its bytes keep coming', async () => {
    const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
    const { payload, headers } = multipart([{ name: 'session_id', value: `slow_${Date.now()}` }, { name: 'front', filename: 'me.jpg', content: jpg }]);
    const head = `POST /api/video/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${bearer(user.token).authorization}\r\n`
      + `Content-Type: ${headers['content-type']}\r\nContent-Length: ${payload.length}\r\n\r\n`;
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => { received += chunk.toString(); });
      socket.on('close', () => resolve(received));
      socket.write(head);
      // Ten slices, one every 150 ms: 1.5 s in all, beyond both timeouts, never idle for long.
      const slice = Math.ceil(payload.length / 10);
      let offset = 0;
      const timer = setInterval(() => {
        socket.write(payload.subarray(offset, offset + slice));
        offset += slice;
        if (offset >= payload.length) clearInterval(timer);
      }, 150);
    });
    expect(answer).toMatch(/^HTTP\/1.1 201/);
  });
});
