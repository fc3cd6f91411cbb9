import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeImage } from '../pose/image-decoder.ts';
import { FakePoseEstimator, InThreadPoseEstimator } from '../pose/pose-estimator.ts';
import { RemotePoseEstimator } from '../pose/remote-pose-estimator.ts';
import { startModelServer, type ModelServer } from './model-server.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');

/** Single-use tokens, like the real ws tokens: `good-*` works once. */
function fakeVerifier(): (t: string) => Promise<{ userId: string } | null> {
  const used = new Set<string>();
  return async (token) => {
    if (!token.startsWith('good-') || used.has(token)) return null;
    used.add(token);
    return { userId: 'user-1' };
  };
}

function connect(url: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>>; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const inbox: Array<Record<string, unknown>> = [];
  const waiters: Array<(m: Record<string, unknown>) => void> = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const next = (): Promise<Record<string, unknown>> =>
    inbox.length ? Promise.resolve(inbox.shift()!) : new Promise((resolve) => waiters.push(resolve));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, next, closed }));
    ws.once('error', reject);
  });
}

describe('model server protocol (fake estimator)', () => {
  let server: ModelServer;
  let slow: (() => void)[] = [];
  /** Called when a slow frame (width 7) reaches the estimator and waits there. */
  let slowHeld: () => void = () => {};
  const estimator = new FakePoseEstimator(['cx', 'gy'], async (img) => {
    if (img.width === 7) await new Promise<void>((r) => (slow.push(r), slowHeld()));
    return img.width === 9 ? null : { keypoints: Array.from({ length: 17 }, (_, i) => [i, i, 0.9]), box: { x: 0, y: 0, width: 16, height: 16 }, score: 0.9, model: 'cx' };
  });
  const png = (w: number): Promise<string> =>
    import('sharp').then(({ default: sharp }) =>
      sharp({ create: { width: w, height: 8, channels: 3, background: '#888' } }).png().toBuffer()).then((b) => b.toString('base64'));

  beforeAll(async () => {
    server = await startModelServer({
      estimator,
      models: ['cx', 'gy'],
      port: 0,
      host: '127.0.0.1',
      verifyWsToken: fakeVerifier(),
      maxMessageBytes: 64 * 1024,
      maxInFlight: 1,
      scoreKeypoints: (kps, view) => ({ posture_score: { side: view }, measurements: { n: kps.length } }),
    });
  });
  afterAll(() => server.close());

  it('authenticates with a ws token and answers in COCO-WholeBody order with posture fields', async () => {
    const c = await connect(`${server.url}?token=good-1`);
    expect(await c.next()).toEqual({ status: 'authenticated', user_id: 'user-1' });
    c.ws.send(JSON.stringify({ image: await png(8), view: 'left' }));
    const reply = await c.next();
    expect(reply.keypoints).toHaveLength(133);
    expect((reply.keypoints as number[][])[5]).toEqual([5, 5, 0.9]);
    expect((reply.keypoints as number[][])[50]).toEqual([0, 0, 0]);
    expect(reply.posture_score).toEqual({ side: 'left' });
    c.ws.close();
  });

  it.each([
    ['no token', ''],
    ['a wrong token', '?token=bad'],
  ])('refuses %s without inference', async (_label, query) => {
    const calls = estimator.calls.length;
    const c = await connect(`${server.url}${query}`);
    expect((await c.next()).error).toMatch(/token/i);
    expect(await c.closed).toBe(4001);
    expect(estimator.calls.length).toBe(calls);
  });

  it('refuses a reused token', async () => {
    const a = await connect(`${server.url}?token=good-2`);
    expect((await a.next()).status).toBe('authenticated');
    const b = await connect(`${server.url}?token=good-2`);
    expect((await b.next()).error).toBe('Invalid or expired token');
    expect(await b.closed).toBe(4001);
    a.ws.close();
  });

  it('answers errors in order: no image, invalid image, oversize, no person', async () => {
    const c = await connect(`${server.url}?token=good-3`);
    await c.next();
    // One at a time: this server admits a single frame in flight.
    const ask = async (msg: string): Promise<Record<string, unknown>> => (c.ws.send(msg), c.next());
    expect(await ask(JSON.stringify({}))).toEqual({ error: 'No image provided' });
    expect(await ask(JSON.stringify({ image: Buffer.from('not an image at all').toString('base64') }))).toEqual({ error: 'Invalid image data' });
    expect((await ask(JSON.stringify({ image: 'A'.repeat(100 * 1024) }))).error).toBe('Message too large');
    expect(await ask(JSON.stringify({ image: await png(9) }))).toEqual({ error: 'No person detected' });
    c.ws.send('{not json');
    expect((await c.next()).error).toMatch(/JSON/);
    c.ws.close();
  });

  it('refuses frames beyond the in-flight bound instead of queueing them', async () => {
    const c = await connect(`${server.url}?token=good-4`);
    await c.next();
    const slowFrame = JSON.stringify({ image: await png(7) });
    const held = new Promise<void>((r) => (slowHeld = r));
    c.ws.send(slowFrame);
    c.ws.send(slowFrame);
    c.ws.send(slowFrame);
    // The server reads a connection's frames in order and answers a ping as it reads it, so the pong means all three
    // frames were taken or refused; the first must also be in the estimator before it is let go.
    const pong = new Promise<void>((r) => c.ws.once('pong', () => r()));
    c.ws.ping();
    await Promise.all([held, pong]);
    expect(slow).toHaveLength(1);
    slow.forEach((r) => r());
    slow = [];
    const replies = [await c.next(), await c.next(), await c.next()];
    expect(replies[0]!.keypoints).toHaveLength(133);
    expect(replies[1]).toEqual({ error: 'Busy: frame dropped' });
    expect(replies[2]).toEqual({ error: 'Busy: frame dropped' });
    c.ws.close();
  });
});

describe('remote pose estimator', () => {
  const local = new InThreadPoseEstimator(['movenet-lightning']);
  let server: ModelServer;
  beforeAll(async () => {
    await local.preload();
    server = await startModelServer({ estimator: local, models: ['movenet-lightning'], port: 0, host: '127.0.0.1', verifyWsToken: fakeVerifier() });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await local.close();
  });

  it('gives the same keypoints as the in-process estimator', async () => {
    let n = 0;
    const remote = new RemotePoseEstimator({ url: server.url, getToken: async () => `good-r${n++}`, models: ['movenet-lightning'] });
    const img = await decodeImage(await readFile(path.join(fixtures, 'coco_000000000785.jpg')));
    const a = await local.estimate({ ...img, data: img.data.slice() }, { model: 'movenet-lightning' });
    const b = await remote.estimate(img, { model: 'movenet-lightning' });
    expect(b!.keypoints.map((k) => k.map((v) => Math.round(v)))).toEqual(a!.keypoints.map((k) => k.map((v) => Math.round(v))));
    await remote.close();
  });
});
