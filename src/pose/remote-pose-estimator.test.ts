import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RemotePoseEstimator } from './remote-pose-estimator.ts';

/** A "model server" that authenticates, then answers every frame with `reply`. */
async function serverAnswering(reply: string): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ status: 'authenticated' }));
    ws.on('message', () => ws.send(reply));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, close: () => new Promise((resolve) => wss.close(() => resolve())) };
}

const image = { width: 4, height: 4, data: new Uint8Array(4 * 4 * 3) };
let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => closeServer?.());

describe('RemotePoseEstimator against a server off the protocol', () => {
  for (const reply of ['not json at all', '[1, 2, 3]', 'null']) {
    it(`fails the frame with a clear error when a reply is ${JSON.stringify(reply)}`, async () => {
      const server = await serverAnswering(reply);
      closeServer = server.close;
      const estimator = new RemotePoseEstimator({ url: server.url, getToken: async () => 'token', models: ['cx'], timeoutMs: 5_000 });
      await expect(estimator.estimate({ ...image, data: image.data.slice() }, { model: 'cx' }))
        .rejects.toThrow(/model server for cx: reply is not a JSON object/);
      await estimator.close();
    });
  }
});

describe('RemotePoseEstimator and the order of frames', () => {
  it('sends frames in the order they were asked for, whichever encodes first', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const received: number[] = [];
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ status: 'authenticated' }));
      ws.on('message', (data) => {
        received.push((JSON.parse(data.toString()) as { image: string }).image.length);
        ws.send(JSON.stringify({ people: [] }));
      });
    });
    closeServer = () => new Promise<void>((resolve) => wss.close(() => resolve()));
    const estimator = new RemotePoseEstimator({
      url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, getToken: async () => 'token', models: ['cx'],
    });
    // Noise compresses badly: the large frame takes far longer to encode than the small one asked for after it.
    const large = { width: 1500, height: 1500, data: new Uint8Array(1500 * 1500 * 3).map(() => Math.floor(Math.random() * 256)) };
    await Promise.all([
      estimator.people(large, { model: 'cx' }),
      estimator.people({ ...image, data: image.data.slice() }, { model: 'cx' }),
    ]);
    expect(received).toHaveLength(2);
    expect(received[0]).toBeGreaterThan(received[1]!);
    await estimator.close();
  });
});

/**
 * A "model server" that holds every frame of its first connection unanswered and answers later connections'
 * frames with an empty list of people. `held` resolves when the first frame is at the server.
 */
async function serverHoldingFirstConnection(): Promise<{
  url: string; connections: number; held: Promise<void>; firstClosed: Promise<void>; close(): Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  let frameHeld: () => void = () => {};
  let closed: () => void = () => {};
  const state = {
    url: '',
    connections: 0,
    held: new Promise<void>((resolve) => (frameHeld = resolve)),
    firstClosed: new Promise<void>((resolve) => (closed = resolve)),
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    }),
  };
  wss.on('connection', (ws) => {
    const first = ++state.connections === 1;
    ws.send(JSON.stringify({ status: 'authenticated' }));
    if (first) ws.once('close', () => closed());
    ws.on('message', () => (first ? frameHeld() : ws.send(JSON.stringify({ people: [] }))));
  });
  state.url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  return state;
}

describe('RemotePoseEstimator and an aborted frame', () => {
  it('rejects a frame held by the model server at once on abort, and the next frame goes over a new connection', async () => {
    const server = await serverHoldingFirstConnection();
    closeServer = server.close;
    // The default 60 s request timeout: only the abort can end the held frame within the test's bounds.
    const estimator = new RemotePoseEstimator({ url: server.url, getToken: async () => 'token', models: ['cx'] });
    const controller = new AbortController();
    const held = estimator.people({ ...image, data: image.data.slice() }, { model: 'cx', signal: controller.signal });
    const heldOutcome = held.then(() => 'answered', (err: Error) => err);
    // Queued behind the held frame (one frame in flight at a time), with no signal of its own.
    const next = estimator.people({ ...image, data: image.data.slice() }, { model: 'cx' });
    await server.held;

    const reason = new Error('analysis cancelled');
    const abortedAt = Date.now();
    controller.abort(reason);
    expect(await heldOutcome).toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    await server.firstClosed; // the abandoned frame's connection is dropped, not reused

    await expect(next).resolves.toEqual([]);
    expect(server.connections).toBe(2);
    await expect(estimator.people({ ...image, data: image.data.slice() }, { model: 'cx' })).resolves.toEqual([]);
    expect(server.connections).toBe(2);
    await estimator.close();
  }, 10_000);

  it('drops the connection of a frame that timed out, so a late reply cannot be taken as the next frame\'s', async () => {
    const server = await serverHoldingFirstConnection();
    closeServer = server.close;
    const estimator = new RemotePoseEstimator({ url: server.url, getToken: async () => 'token', models: ['cx'], timeoutMs: 300 });
    await expect(estimator.people({ ...image, data: image.data.slice() }, { model: 'cx' })).rejects.toThrow(/model server timed out/);
    await server.firstClosed;
    await expect(estimator.people({ ...image, data: image.data.slice() }, { model: 'cx' })).resolves.toEqual([]);
    expect(server.connections).toBe(2);
    await estimator.close();
  }, 10_000);

  it('rejects on abort while the model server has not yet authenticated the connection', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    let connected: () => void = () => {};
    const connection = new Promise<void>((resolve) => (connected = resolve));
    wss.on('connection', () => connected()); // and never a word
    closeServer = () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const estimator = new RemotePoseEstimator({ url, getToken: async () => 'token', models: ['cx'] });
    const controller = new AbortController();
    const outcome = estimator.people({ ...image, data: image.data.slice() }, { model: 'cx', signal: controller.signal })
      .then(() => 'answered', (err: Error) => err);
    await connection;
    const reason = new Error('analysis cancelled');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    await estimator.close();
  }, 10_000);

  it('rejects at once when the signal is already aborted, without sending the frame', async () => {
    const server = await serverHoldingFirstConnection();
    closeServer = server.close;
    const estimator = new RemotePoseEstimator({ url: server.url, getToken: async () => 'token', models: ['cx'] });
    const reason = new Error('stopping');
    await expect(estimator.people({ ...image, data: image.data.slice() }, { model: 'cx', signal: AbortSignal.abort(reason) }))
      .rejects.toBe(reason);
    expect(server.connections).toBe(0);
    await estimator.close();
  });
});
