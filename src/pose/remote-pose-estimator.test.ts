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
