// The model server (SPEC section 4): a WebSocket endpoint that authenticates with a single-use ws token, then
// answers each `{image:<base64 JPEG/PNG>}` text message with one reply, in order. Inference runs on the
// estimator (a worker pool), never on this event loop; each connection has a small bounded number of frames in
// flight and frames beyond it are refused, so a fast client cannot build an unbounded queue.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { toWholeBody } from '../pose/coco-wholebody.ts';
import { decodeImage } from '../pose/image-decoder.ts';
import { sniffMedia } from '../pose/media-sniff.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import type { Box, Keypoint, LocatedPerson } from '../pose/pose-types.ts';
import type { UploadView } from '../posture/index.ts';


export interface ModelServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ModelServerOptions {
  estimator: PoseEstimator;
  /** Names served; the first is used when a message names none. */
  models: string[];
  port: number;
  host?: string;
  /** Resolves the user of a ws token, burning it; rejects (or resolves null) for a missing, wrong or reused one. */
  verifyWsToken: (token: string) => Promise<{ userId: string } | null>;
  /** Largest accepted message (default 8 MiB); larger ones get an error reply. */
  maxMessageBytes?: number;
  /** Frames one connection may have in inference at once (default 2). */
  maxInFlight?: number;
  logger?: ModelServerLogger;
  /** Posture fields merged into each reply (posture_score, raw_scores_percent, measurements). */
  scoreKeypoints?: (kps17: Keypoint[], view: UploadView) => object;
}

export interface ModelServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export const MODEL_SERVER_ERRORS = {
  noPerson: 'No person detected',
  noImage: 'No image provided',
  invalidImage: 'Invalid image data',
  busy: 'Busy: frame dropped',
  tooLarge: 'Message too large',
  invalidJson: 'Invalid JSON message',
  tokenMissing: 'Missing token',
  tokenInvalid: 'Invalid or expired token',
} as const;

const noopLogger: ModelServerLogger = { info() {}, warn() {}, error() {} };
const VIEWS: readonly string[] = ['front', 'back', 'left', 'right', 'auto'];
/** Replies a connection may owe (in flight + refusals waiting their turn) before it is closed. */
const MAX_OWED_REPLIES = 64;

function decodeBase64Image(image: string): Buffer | null {
  const comma = image.startsWith('data:') ? image.indexOf(',') : -1;
  const b64 = comma >= 0 ? image.slice(comma + 1) : image;
  if (!/^[A-Za-z0-9+/=\s_-]*$/.test(b64.slice(0, 4096))) return null;
  const buf = Buffer.from(b64, 'base64');
  return buf.length > 0 ? buf : null;
}

const scaleBox = (b: Box, s: number): Box => ({ x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s });

/** A `{x, y, width, height}` of finite numbers (scaled by `s`), or null for anything else. */
function parseBox(value: unknown, s: number): Box | null {
  if (!value || typeof value !== 'object') return null;
  const b = value as Record<string, unknown>;
  const nums = [b.x, b.y, b.width, b.height];
  if (!nums.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  if ((b.width as number) <= 0 || (b.height as number) <= 0) return null;
  return scaleBox(b as unknown as Box, s);
}

/** A located person `{box, keypoints?}` (17 `[x, y, score]` of finite numbers), scaled by `s`; else null. */
function parseLocatedPerson(value: unknown, s: number): LocatedPerson | null {
  const box = parseBox((value as { box?: unknown } | null)?.box, s);
  if (!box) return null;
  const kps = (value as { keypoints?: unknown }).keypoints;
  const valid = Array.isArray(kps) && kps.length === 17
    && kps.every((k) => Array.isArray(k) && k.length === 3 && k.every((n) => typeof n === 'number' && Number.isFinite(n)));
  return valid ? { box, keypoints: (kps as Keypoint[]).map(([x, y, c]) => [x * s, y * s, c] as Keypoint) } : { box };
}

export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const log = opts.logger ?? noopLogger;
  const maxBytes = opts.maxMessageBytes ?? 8 * 1024 * 1024;
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'WebSocket upgrade required' }));
  });
  // ws closes a connection on payloads over maxPayload; keep that as a hard ceiling well above the soft limit so
  // ordinary oversize frames get a readable error reply instead.
  const wss = new WebSocketServer({ server, maxPayload: Math.max(maxBytes * 4, maxBytes + 1024 * 1024) });

  wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
    const send = (obj: object): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(obj));
    };
    let chain: Promise<void> = Promise.resolve();
    let inFlight = 0;
    let owed = 0;
    const auth: Promise<{ userId: string } | null> = token
      ? opts.verifyWsToken(token).catch(() => null)
      : Promise.resolve(null);

    void auth.then((user) => {
      if (!user) {
        send({ error: token ? MODEL_SERVER_ERRORS.tokenInvalid : MODEL_SERVER_ERRORS.tokenMissing });
        ws.close(4001, 'unauthorized');
        return;
      }
      log.info({ userId: user.userId }, 'model server: client authenticated');
      send({ status: 'authenticated', user_id: user.userId });
    });

    const handle = async (raw: RawData): Promise<object> => {
      const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : (raw as Buffer).byteLength;
      if (size > maxBytes) return { error: MODEL_SERVER_ERRORS.tooLarge, max_bytes: maxBytes };
      let msg: { image?: unknown; model?: unknown; view?: unknown; people?: unknown; track?: unknown; person?: unknown; search?: unknown; full?: unknown };
      try {
        msg = JSON.parse(raw.toString()) as typeof msg;
      } catch {
        return { error: MODEL_SERVER_ERRORS.invalidJson };
      }
      if (!msg || typeof msg !== 'object' || !msg.image) return { error: MODEL_SERVER_ERRORS.noImage };
      if (typeof msg.image !== 'string') return { error: MODEL_SERVER_ERRORS.invalidImage };
      const model = typeof msg.model === 'string' ? msg.model : opts.models[0]!;
      if (!opts.models.includes(model)) return { error: `Invalid model: ${model}. Available models: ${opts.models.join(', ')}` };
      const view = (typeof msg.view === 'string' && VIEWS.includes(msg.view) ? msg.view : 'auto') as UploadView;
      const bytes = decodeBase64Image(msg.image);
      const kind = bytes ? sniffMedia(bytes.subarray(0, 64)) : null;
      if (!bytes || !kind || kind.kind !== 'image') return { error: MODEL_SERVER_ERRORS.invalidImage };
      let img;
      try {
        img = await decodeImage(bytes, { maxSide: 4096 });
      } catch {
        return { error: MODEL_SERVER_ERRORS.invalidImage };
      }
      const s = img.scale;
      // Postura's own workers (MODEL_SERVER_URLS) send what the in-process pool is given, so both compute the same:
      // `people: true` lists everybody; `track`/`person` boxes (original pixels) and `search: false` steer one pose.
      if (msg.people === true) {
        const people = await opts.estimator.people(img, { model });
        return { people: people.map((p) => ({ box: scaleBox(p.box, s), score: p.score, keypoints: p.keypoints.map(([x, y, c]) => [x * s, y * s, c]) })), model };
      }
      const track = parseBox(msg.track, 1 / s);
      const person = parseLocatedPerson(msg.person, 1 / s);
      const result = await opts.estimator.estimate(img, { model, track, person, search: msg.search === false ? false : undefined });
      if (!result) return { error: MODEL_SERVER_ERRORS.noPerson };
      const kps17 = result.keypoints.map(([x, y, c]) => [x * s, y * s, c] as Keypoint);
      const extra = result.extra
        ? Object.fromEntries(Object.entries(result.extra).map(([n, [x, y, c]]) => [n, [x * s, y * s, c] as Keypoint]))
        : undefined;
      const reply: Record<string, unknown> = {
        keypoints: toWholeBody(kps17, extra),
        model,
        score: result.score,
        image_size: [img.originalWidth, img.originalHeight],
      };
      if (msg.full === true) Object.assign(reply, { keypoints17: kps17, extra: extra ?? null, box: scaleBox(result.box, s) });
      if (opts.scoreKeypoints) Object.assign(reply, opts.scoreKeypoints(kps17, view));
      return reply;
    };

    ws.on('message', (raw: RawData, isBinary: boolean) => {
      if (owed >= MAX_OWED_REPLIES) {
        ws.close(1008, 'too many pending frames');
        return;
      }
      owed++;
      // Refusals still take their turn in the reply order; only accepted frames count against maxInFlight.
      const accepted = inFlight < maxInFlight;
      if (accepted) inFlight++;
      const work: Promise<object> = auth.then(async (user) => {
        if (!user) return { error: MODEL_SERVER_ERRORS.tokenInvalid };
        if (!accepted) return { error: MODEL_SERVER_ERRORS.busy };
        if (isBinary) return { error: MODEL_SERVER_ERRORS.invalidImage };
        try {
          return await handle(raw);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'model server: inference failed');
          return { error: 'Inference failed' };
        }
      });
      chain = chain
        .then(() => work)
        .then((reply) => {
          if (accepted) inFlight--;
          owed--;
          return auth.then((user) => {
            if (user) send(reply);
          });
        });
    });
    ws.on('error', (err) => log.warn({ err: err.message }, 'model server: socket error'));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  log.info({ port, models: opts.models }, 'model server listening');
  return {
    port,
    url: `ws://${host}:${port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
