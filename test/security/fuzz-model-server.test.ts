import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MODEL_SERVER_ERRORS, startModelServer, type ModelServer } from '../../src/model-server/model-server.ts';
import { postureReply } from '../../src/model-server/posture-reply.ts';
import { FakePoseEstimator } from '../../src/pose/pose-estimator.ts';
import { fuzzParams, nastyJson, nastyString, percentEncode } from '../helpers/fuzz.ts';

/**
 * The model server's WebSocket protocol (SPEC section 4, what `postura model-server` runs) under hostile tokens
 * and messages, with the real image decoding and posture scoring and a fake pose model (the model is not what is
 * under test). Properties: no token, no inference; every message gets exactly one reply, in order, either 133
 * keypoints or a readable error; valid pictures always get keypoints; the server outlives all of it.
 */

const MAX_MESSAGE_BYTES = 256 * 1024;
let server: ModelServer;
const estimator = new FakePoseEstimator(['cx', 'gy']);
const sockets: WebSocket[] = [];
let tokenCounter = 0;
let fixtureJpg: Buffer;

/** Single-use tokens, like the API's ws tokens: `good-*` works once. */
const used = new Set<string>();
async function verifyWsToken(token: string): Promise<{ userId: string } | null> {
  if (!token.startsWith('good-') || used.has(token)) return null;
  used.add(token);
  return { userId: 'fuzz-user' };
}

interface Client {
  socket: WebSocket;
  replies: Array<Record<string, unknown>>;
  closed: Promise<number>;
  next(): Promise<Record<string, unknown>>;
}

function connect(query: string): Promise<Client> {
  const socket = new WebSocket(`${server.url}/${query}`);
  sockets.push(socket);
  const replies: Array<Record<string, unknown>> = [];
  const waiters: Array<(reply: Record<string, unknown>) => void> = [];
  let taken = 0;
  socket.on('message', (data) => {
    const reply = JSON.parse(String(data)) as Record<string, unknown>;
    replies.push(reply);
    waiters.shift()?.(reply);
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const next = (): Promise<Record<string, unknown>> => {
    const index = taken++;
    if (index < replies.length) return Promise.resolve(replies[index]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 10 s')), 10_000);
      waiters.push((reply) => (clearTimeout(timer), resolve(reply)));
    });
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, replies, closed, next }));
    socket.once('error', reject);
  });
}

async function authenticated(): Promise<Client> {
  const client = await connect(`?token=good-fuzz-${++tokenCounter}`);
  expect(await client.next()).toEqual({ status: 'authenticated', user_id: 'fuzz-user' });
  return client;
}

/** A message and what the reply must be: keypoints, or an error matching `error`. */
interface Case { data: string | Buffer; binary: boolean; expect: 'keypoints' | RegExp; label: string }

const KNOWN_ERRORS = new RegExp(`^(${Object.values(MODEL_SERVER_ERRORS).join('|')}|Invalid model: .*)$`);

const picture = fc.record({
  width: fc.integer({ min: 1, max: 48 }),
  height: fc.integer({ min: 1, max: 48 }),
  colour: fc.constantFrom('#000', '#fff', '#468', '#f0f'),
  format: fc.constantFrom('png', 'jpeg', 'webp', 'fixture'),
  dataUrl: fc.boolean(),
  model: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(undefined, 'cx', 'gy') }, { weight: 1, arbitrary: nastyString }),
  view: fc.oneof(fc.constantFrom(undefined, 'front', 'back', 'left', 'right', 'auto'), nastyString),
  // The fields Postura's own workers steer a frame with (track/person boxes, search, full replies): any value.
  steer: fc.record({
    track: fc.oneof(fc.constant(undefined), nastyJson, fc.record({ x: fc.double(), y: fc.double(), width: fc.double(), height: fc.double() })),
    person: fc.oneof(fc.constant(undefined), nastyJson, fc.record({ x: fc.integer(), y: fc.integer(), width: fc.integer(), height: fc.integer() })),
    search: fc.oneof(fc.constant(undefined), fc.boolean(), nastyJson),
    full: fc.oneof(fc.constant(undefined), fc.boolean(), nastyJson),
  }, { requiredKeys: [] }),
});

async function pictureCase(p: typeof picture extends fc.Arbitrary<infer P> ? P : never): Promise<Case> {
  const bytes = p.format === 'fixture'
    ? fixtureJpg
    : await sharp({ create: { width: p.width, height: p.height, channels: 3, background: p.colour } }).toFormat(p.format).toBuffer();
  const mime = p.format === 'png' ? 'image/png' : p.format === 'webp' ? 'image/webp' : 'image/jpeg';
  const image = p.dataUrl ? `data:${mime};base64,${bytes.toString('base64')}` : bytes.toString('base64');
  const knownModel = p.model === undefined || p.model === 'cx' || p.model === 'gy';
  return {
    data: JSON.stringify({ image, ...(p.model === undefined ? {} : { model: p.model }), ...(p.view === undefined ? {} : { view: p.view }), ...p.steer }),
    binary: false,
    expect: knownModel ? 'keypoints' : /^Invalid model: /,
    label: `${p.format} ${p.width}x${p.height} model=${String(p.model).slice(0, 20)} view=${String(p.view).slice(0, 20)}`,
  };
}

const hostile: fc.Arbitrary<Case> = fc.oneof(
  nastyString.map((text) => ({ data: text, binary: false, expect: /^(Invalid JSON message|No image provided|Invalid image data|Message too large)$/, label: `text ${text.slice(0, 30)}` })),
  nastyJson.map((value) => ({ data: JSON.stringify(value) ?? 'null', binary: false, expect: KNOWN_ERRORS, label: `json ${JSON.stringify(value)?.slice(0, 40)}` })),
  fc.oneof(nastyString, nastyJson).map((image) => ({ data: JSON.stringify({ image }), binary: false, expect: /^(No image provided|Invalid image data|Message too large)$/, label: `image=${JSON.stringify(image)?.slice(0, 40)}` })),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true, expect: /^Invalid image data$/, label: 'binary frame' })),
  fc.constantFrom<() => Case>(
    () => ({ data: JSON.stringify({ image: fixtureJpg.subarray(0, 20_000).toString('base64') }), binary: false, expect: /^Invalid image data$/, label: 'truncated jpeg' }),
    () => ({ data: JSON.stringify({ image: Buffer.concat([fixtureJpg.subarray(0, 3), Buffer.alloc(2_000, 7)]).toString('base64') }), binary: false, expect: /^Invalid image data$/, label: 'jpeg magic, garbage body' }),
    () => ({ data: JSON.stringify({ image: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64') }), binary: false, expect: /^Invalid image data$/, label: 'svg' }),
    () => ({ data: JSON.stringify({ image: 'data:image/png;base64,' }), binary: false, expect: /^Invalid image data$/, label: 'empty data url' }),
    () => ({ data: JSON.stringify({ image: 'A'.repeat(MAX_MESSAGE_BYTES) }), binary: false, expect: /^Message too large$/, label: 'oversize' }),
    () => ({ data: `{"image":"${fixtureJpg.toString('base64')}","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}`, binary: false, expect: 'keypoints', label: 'prototype keys' }),
  ).map((make) => make()),
);

function expectReply(reply: Record<string, unknown>, c: Case): void {
  if (c.expect === 'keypoints') {
    expect(reply.error, c.label).toBeUndefined();
    const keypoints = reply.keypoints as number[][];
    expect(keypoints, c.label).toHaveLength(133);
    expect(keypoints.flat().every((v) => Number.isFinite(v)), `${c.label}: finite keypoints`).toBe(true);
    return;
  }
  expect(reply.keypoints, c.label).toBeUndefined();
  expect(reply.error, c.label).toEqual(expect.stringMatching(c.expect));
}

beforeAll(async () => {
  fixtureJpg = await readFile('test/fixtures/coco_000000000785.jpg');
  server = await startModelServer({
    estimator, models: ['cx', 'gy'], port: 0, host: '127.0.0.1', verifyWsToken,
    maxMessageBytes: MAX_MESSAGE_BYTES, scoreKeypoints: (keypoints, view) => postureReply(keypoints, view),
  });
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await server?.close();
});
afterEach(async () => {
  // The server outlives whatever the test sent: a new client still gets keypoints for a real photo.
  const client = await authenticated();
  client.socket.send(JSON.stringify({ image: fixtureJpg.toString('base64'), view: 'front' }));
  expectReply(await client.next(), { data: '', binary: false, expect: 'keypoints', label: 'health check' });
  client.socket.close();
});

describe('fuzz: model server', () => {
  it('hostile tokens: an error, close 4001, and no inference at all', async () => {
    (await authenticated()).socket.close();
    const burnt = `good-fuzz-${tokenCounter}`;
    await fc.assert(fc.asyncProperty(fc.oneof(nastyString, fc.constantFrom(burnt, 'good', 'GOOD-x')), async (token) => {
      const calls = estimator.calls.length;
      const client = await connect(token === '' ? '' : `?token=${percentEncode(token)}`);
      // Frames sent before the verdict must not be inferred either.
      client.socket.send(JSON.stringify({ image: fixtureJpg.toString('base64') }));
      expect((await client.next()).error, token).toMatch(/token/i);
      expect(await client.closed, token).toBe(4001);
      expect(client.replies.every((r) => r.keypoints === undefined), token).toBe(true);
      expect(estimator.calls.length, token).toBe(calls);
    }), fuzzParams(20));
  });

  it('one reply per message, in order: keypoints for every real picture, a known error for everything else', async () => {
    const client = await authenticated();
    const cases = fc.oneof({ weight: 2, arbitrary: picture.map((p) => ({ p })) }, { weight: 3, arbitrary: hostile.map((c) => ({ c })) });
    await fc.assert(fc.asyncProperty(cases, async (generated) => {
      const c = 'p' in generated ? await pictureCase(generated.p) : generated.c;
      client.socket.send(c.data, { binary: c.binary });
      expectReply(await client.next(), c);
    }), fuzzParams(60));
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype untouched').toBeUndefined();
  });

  it('a burst faster than inference gets exactly one reply per frame (results or "busy"), never a dropped socket', async () => {
    const client = await authenticated();
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(picture.map((p) => ({ p })), hostile.map((c) => ({ c }))), { minLength: 1, maxLength: 12 }), async (batch) => {
      const cases = await Promise.all(batch.map((g) => ('p' in g ? pictureCase(g.p) : g.c)));
      for (const c of cases) client.socket.send(c.data, { binary: c.binary });
      for (const c of cases) {
        const reply = await client.next();
        if (reply.error === MODEL_SERVER_ERRORS.busy) continue;
        expectReply(reply, c);
      }
    }), fuzzParams(10));
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('a message over the hard ceiling closes that socket (1009), not the server', async () => {
    const client = await authenticated();
    // The server's hard ceiling, well above the soft limit that gets a readable "too large" reply.
    const ceiling = Math.max(MAX_MESSAGE_BYTES * 4, MAX_MESSAGE_BYTES + 1024 * 1024);
    client.socket.send(Buffer.alloc(ceiling + 1, 0x41));
    expect(await client.closed).toBe(1009);
  });
});
