import type http from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config/config.ts';

/**
 * The Fastify server options that bound how long a client may hold a connection.
 *
 * - `http.headersTimeout`: the request head must arrive whole in time (slowloris); Node answers 408 and closes.
 * - `connectionTimeout` (the socket's idle timeout): no byte either way for that long closes the connection. This is
 *   the body timeout of a streamed upload: a 500 MiB file on a slow link is kept as long as it keeps moving.
 * - `requestTimeout` stays 0 (none): Node's total would cut such an upload off; buffered bodies get their own total
 *   below instead. WebSockets are not affected: Node lifts the idle timeout once a connection is upgraded.
 *
 * Node checks the head and total deadlines on a timer (30 s by default), which would let a slow head live up to
 * 30 s past its deadline; checking at a quarter of the deadline keeps the overshoot small at a negligible cost.
 */
export function serverTimeoutOptions(config: HttpConfig): {
  connectionTimeout: number; keepAliveTimeout: number; requestTimeout: number; http: http.ServerOptions;
} {
  return {
    connectionTimeout: config.idleTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    requestTimeout: 0,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.min(5_000, Math.max(50, Math.floor(config.headersTimeoutMs / 4))),
    },
  };
}

/** Content types whose body Fastify reads whole into memory before the handler (src/http/json-body.ts, text). */
const BUFFERED = /^\s*(application\/json|text\/plain)\b/i;

/**
 * A total deadline on buffered bodies: they are at most the body limit (1 MiB), so a client trickling one a byte at
 * a time, just under the idle timeout, holds the connection for no reason a real client has. Streamed bodies
 * (multipart uploads, signed PUTs) are left to the idle timeout. Past the deadline the connection is destroyed:
 * no answer can be sent in the middle of a body the client is still writing.
 */
export function installBufferedBodyDeadline(app: FastifyInstance, timeoutMs: number): void {
  app.addHook('onRequest', async (request) => {
    if (request.raw.complete || !isBuffered(request)) return;
    const timer = setTimeout(() => {
      request.log.info({ timeoutMs }, 'request body not received in time; connection closed');
      request.raw.destroy();
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    request.raw.once('end', clear);
    request.raw.once('close', clear);
  });
}

function isBuffered(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && BUFFERED.test(type);
}
