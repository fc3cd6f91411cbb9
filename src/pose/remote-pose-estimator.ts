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

/** One connection to the model server and the requests waiting on its replies, oldest first. */
interface Connection {
  ws: WebSocket;
  /** The server has accepted the token: frames may be sent. */
  authenticated: boolean;
  waiting: Array<{ resolve: (msg: Record<string, unknown>) => void; reject: (e: Error) => void }>;
  /** Rejects every waiter, terminates the socket and forgets it, so the next request connects afresh. Once. */
  fail(err: Error): void;
}

export class RemotePoseEstimator implements PoseEstimator {
  private socket: Promise<Connection> | undefined;
  /** Every connection not yet failed or closed, the current one and any still closing: `close` ends them all. */
  private readonly open = new Set<Connection>();
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: RemotePoseEstimatorOptions) {}

  models(): string[] {
    return [...this.opts.models];
  }

  private connect(): Promise<Connection> {
    if (this.socket) return this.socket;
    // Assigned before the attempt's first await resumes: the attempt compares itself with `this.socket` through it.
    let current: Promise<Connection> | undefined;
    current = (async () => {
      const server = `model server for ${this.opts.models.join(', ')}`;
      const token = await this.opts.getToken();
      if (this.socket !== current) throw new RemotePoseError(`${server}: closed`); // close() while fetching the token
      const ws = new WebSocket(`${this.opts.url}?token=${encodeURIComponent(token)}`);
      return new Promise<Connection>((resolve, reject) => {
        // Each connection fails once and only touches its own waiters: 'error' is followed by 'close', and an
        // aborted request's socket closes after the next request may have opened the current connection.
        let failed = false;
        const conn: Connection = {
          ws,
          authenticated: false,
          waiting: [],
          fail: (err) => {
            if (failed) return;
            failed = true;
            this.open.delete(conn);
            if (this.socket === current) this.socket = undefined;
            for (const w of conn.waiting.splice(0)) w.reject(err);
            ws.terminate();
            reject(err);
          },
        };
        this.open.add(conn);
        // The raw error names only an address ("connect ECONNREFUSED 10.0.0.7:8894"); the analysis's reason says what.
        ws.on('error', (err: NodeJS.ErrnoException) => conn.fail(new RemotePoseError(`${server}: connection failed (${err.code ?? err.message})`)));
        ws.once('close', () => conn.fail(new RemotePoseError(`${server}: connection closed`)));
        ws.once('message', (data) => {
          const msg = parseReply(data.toString());
          if (msg?.status !== 'authenticated') {
            return conn.fail(new RemotePoseError(`model server refused: ${typeof msg?.error === 'string' ? msg.error : 'unknown'}`));
          }
          conn.authenticated = true;
          ws.on('message', (d) => {
            const reply = parseReply(d.toString());
            // A reply that is not a JSON object means the server is not speaking the protocol: drop the connection
            // (the frames waiting on it fail and are retried) rather than throw inside the socket's handler.
            if (reply) conn.waiting.shift()?.resolve(reply);
            else conn.fail(new RemotePoseError(`${server}: reply is not a JSON object`));
          });
          resolve(conn);
        });
      });
    })();
    this.socket = current;
    // A failed token fetch forgets the attempt too, so the next request tries again.
    current.catch(() => {
      if (this.socket === current) this.socket = undefined;
    });
    return current;
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

  /**
   * One frame (as lossless PNG) and the extra fields → the server's reply, one request at a time. An abort while
   * the frame is at the server rejects at once and drops the connection: replies are matched in order, so a
   * late reply to the abandoned frame would otherwise be taken as the next frame's.
   */
  private request(image: RgbImage, opts: { model: string; signal?: AbortSignal }, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    // Encoded now, alongside earlier frames; the frame's turn is taken now too, in call order: when the turn waited
    // for the encoding, a later frame that encoded first went first (and an abort of the one left waiting did nothing).
    const encoded = encodePng(image);
    encoded.catch(() => undefined);
    const signal = opts.signal;
    const run = async (): Promise<Record<string, unknown>> => {
      if (signal?.aborted) throw abortError(signal);
      const png = await untilAborted(encoded, signal);
      // A server that takes the connection but never authenticates must not hold an aborted frame either; the
      // attempt itself goes on and serves the next request if it succeeds.
      const conn = await untilAborted(this.connect(), signal);
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        // A frame the server has not answered in time: its reply may still come, so the connection goes as well.
        const timer = setTimeout(() => {
          const err = new RemotePoseError('model server timed out');
          waiter.reject(err);
          conn.fail(err);
        }, this.opts.timeoutMs ?? 60_000);
        const waiter = {
          resolve: (m: Record<string, unknown>) => (done(), resolve(m)),
          reject: (e: Error) => (done(), reject(e)),
        };
        const onAbort = () => {
          const err = abortError(signal!);
          const i = conn.waiting.indexOf(waiter);
          if (i >= 0) conn.waiting.splice(i, 1);
          waiter.reject(err);
          conn.fail(new RemotePoseError('model server connection dropped: an earlier frame was aborted'));
        };
        // Closed since it was handed out (the server went away in between): nothing would ever answer.
        if (!this.open.has(conn)) return waiter.reject(new RemotePoseError(`model server for ${this.opts.models.join(', ')}: connection closed`));
        conn.waiting.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
        conn.ws.send(JSON.stringify({ image: png.toString('base64'), model: opts.model, ...fields }));
      });
    };
    const result = this.turn.then(run, run);
    this.turn = result.catch(() => undefined);
    // A frame still waiting for its turn is given up at once as well (its turn then passes straight on).
    return signal ? untilAborted(result, signal) : result;
  }

  /**
   * Closes the connections: an authenticated one with a close handshake (its waiting frames fail once it has
   * closed), one still connecting or waiting for the server's word at once. Waits for neither.
   */
  async close(): Promise<void> {
    this.socket = undefined;
    for (const conn of [...this.open]) {
      if (conn.authenticated) conn.ws.close();
      else conn.fail(new RemotePoseError(`model server for ${this.opts.models.join(', ')}: closed`));
    }
  }
}

/** The frame as a lossless PNG (fast compression: it crosses a local network once). */
async function encodePng(image: RgbImage): Promise<Buffer> {
  const sharp = (await import('sharp')).default as typeof SharpType;
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  }).png({ compressionLevel: 1 }).toBuffer();
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** `promise`, or its signal's reason as soon as the signal is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
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
