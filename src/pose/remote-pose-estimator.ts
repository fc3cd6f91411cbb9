// PoseEstimator over the model server's WebSocket protocol. Frames are sent as lossless PNG so the server sees
// exactly the pixels the in-process estimator would, and gives the same keypoints. Replies come in order, so
// requests are matched first-in first-out; one frame is in flight at a time so the server never refuses ours.
import type SharpType from 'sharp';
import WebSocket from 'ws';
import { boxFromKeypoints, padBox } from './person-geometry.ts';
import { assertServedModel, type EstimateOptions, type PoseEstimator } from './pose-estimator.ts';
import type { Keypoint, PoseResult, RgbImage } from './pose-types.ts';

export interface RemotePoseEstimatorOptions {
  /** ws://host:port of a model server. */
  url: string;
  /** A fresh single-use ws token for each (re)connection. */
  getToken: () => Promise<string>;
  models: string[];
  timeoutMs?: number;
}

export class RemotePoseError extends Error {
  override readonly name = 'RemotePoseError';
}

export class RemotePoseEstimator implements PoseEstimator {
  private socket: Promise<WebSocket> | undefined;
  private waiting: Array<{ resolve: (msg: Record<string, unknown>) => void; reject: (e: Error) => void }> = [];
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: RemotePoseEstimatorOptions) {}

  models(): string[] {
    return [...this.opts.models];
  }

  private connect(): Promise<WebSocket> {
    this.socket ??= (async () => {
      const token = await this.opts.getToken();
      const ws = new WebSocket(`${this.opts.url}?token=${encodeURIComponent(token)}`);
      return new Promise<WebSocket>((resolve, reject) => {
        const server = `model server for ${this.opts.models.join(', ')}`;
        // Once per socket: 'error' is followed by 'close', by which time a new connection may be the current one.
        let failed = false;
        const fail = (err: Error): void => {
          if (failed) return;
          failed = true;
          this.socket = undefined;
          for (const w of this.waiting.splice(0)) w.reject(err);
          reject(err);
        };
        // The raw error names only an address ("connect ECONNREFUSED 10.0.0.7:8894"); the analysis's reason says what.
        ws.on('error', (err: NodeJS.ErrnoException) => fail(new RemotePoseError(`${server}: connection failed (${err.code ?? err.message})`)));
        ws.once('close', () => fail(new RemotePoseError(`${server}: connection closed`)));
        ws.once('message', (data) => {
          const msg = parseReply(data.toString());
          if (msg?.status !== 'authenticated') {
            ws.terminate();
            return fail(new RemotePoseError(`model server refused: ${typeof msg?.error === 'string' ? msg.error : 'unknown'}`));
          }
          ws.on('message', (d) => {
            const reply = parseReply(d.toString());
            // A reply that is not a JSON object means the server is not speaking the protocol: drop the connection
            // (the frames waiting on it fail and are retried) rather than throw inside the socket's handler.
            if (reply) this.waiting.shift()?.resolve(reply);
            else {
              fail(new RemotePoseError(`${server}: reply is not a JSON object`));
              ws.terminate();
            }
          });
          resolve(ws);
        });
      });
    })();
    return this.socket;
  }

  async estimate(image: RgbImage, opts: EstimateOptions): Promise<PoseResult | null> {
    assertServedModel(this, opts.model);
    const sharp = (await import('sharp')).default as typeof SharpType;
    const png = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
      raw: { width: image.width, height: image.height, channels: 3 },
    }).png({ compressionLevel: 1 }).toBuffer();
    const run = async (): Promise<PoseResult | null> => {
      if (opts.signal?.aborted) throw new Error('aborted');
      const ws = await this.connect();
      const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new RemotePoseError('model server timed out')), this.opts.timeoutMs ?? 60_000);
        this.waiting.push({
          resolve: (m) => (clearTimeout(timer), resolve(m)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        ws.send(JSON.stringify({ image: png.toString('base64'), model: opts.model }));
      });
      if (reply.error === 'No person detected') return null;
      if (typeof reply.error === 'string') throw new RemotePoseError(reply.error);
      const keypoints = (reply.keypoints as Keypoint[]).slice(0, 17);
      const tight = boxFromKeypoints(keypoints) ?? boxFromKeypoints(keypoints, 0);
      if (!tight) return null;
      return { keypoints, box: padBox(tight, 0.05), score: Number(reply.score ?? 0), model: opts.model };
    };
    const result = this.turn.then(run, run);
    this.turn = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) (await s.catch(() => null))?.close();
  }
}

function parseReply(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}
