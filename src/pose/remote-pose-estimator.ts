// PoseEstimator over the model server's WebSocket protocol. Frames are sent as lossless PNG so the server sees
// exactly the pixels the in-process estimator would, and gives the same keypoints. Replies come in order, so
// requests are matched first-in first-out; one frame is in flight at a time so the server never refuses ours.
import type SharpType from 'sharp';
import WebSocket from 'ws';
import { boxFromKeypoints, padBox } from './person-geometry.ts';
import { assertServedModel, type EstimateOptions, type PeopleOptions, type PoseEstimator } from './pose-estimator.ts';
import type { Box, Keypoint, PersonCandidate, PoseResult, RgbImage } from './pose-types.ts';

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
    const reply = await this.request(image, opts, {
      full: true, track: opts.track ?? undefined, person: opts.person ?? undefined, search: opts.search === false ? false : undefined,
    });
    if (reply.error === 'No person detected') return null;
    if (typeof reply.error === 'string') throw new RemotePoseError(reply.error);
    // The server's own box and points (a full reply): the same numbers the in-process pool would give.
    const keypoints = (Array.isArray(reply.keypoints17) ? reply.keypoints17 : (reply.keypoints as Keypoint[]).slice(0, 17)) as Keypoint[];
    const box = isBox(reply.box) ? reply.box : (() => {
      const tight = boxFromKeypoints(keypoints) ?? boxFromKeypoints(keypoints, 0);
      return tight ? padBox(tight, 0.05) : null;
    })();
    if (!box) return null;
    const result: PoseResult = { keypoints, box, score: Number(reply.score ?? 0), model: opts.model };
    if (reply.extra && typeof reply.extra === 'object') result.extra = reply.extra as Record<string, Keypoint>;
    return result;
  }

  async people(image: RgbImage, opts: PeopleOptions): Promise<PersonCandidate[]> {
    assertServedModel(this, opts.model);
    const reply = await this.request(image, opts, { people: true });
    if (typeof reply.error === 'string') throw new RemotePoseError(reply.error);
    if (!Array.isArray(reply.people)) throw new RemotePoseError('model server does not list people (an older version?)');
    return reply.people as PersonCandidate[];
  }

  /** One frame (as lossless PNG) and the extra fields → the server's reply, one request at a time. */
  private async request(image: RgbImage, opts: { model: string; signal?: AbortSignal }, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    const sharp = (await import('sharp')).default as typeof SharpType;
    const png = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
      raw: { width: image.width, height: image.height, channels: 3 },
    }).png({ compressionLevel: 1 }).toBuffer();
    const run = async (): Promise<Record<string, unknown>> => {
      if (opts.signal?.aborted) throw new Error('aborted');
      const ws = await this.connect();
      const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new RemotePoseError('model server timed out')), this.opts.timeoutMs ?? 60_000);
        this.waiting.push({
          resolve: (m) => (clearTimeout(timer), resolve(m)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        ws.send(JSON.stringify({ image: png.toString('base64'), model: opts.model, ...fields }));
      });
      return reply;
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

function isBox(v: unknown): v is Box {
  const b = v as Box | null;
  return !!b && typeof b === 'object' && [b.x, b.y, b.width, b.height].every((n) => typeof n === 'number');
}

function parseReply(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}
