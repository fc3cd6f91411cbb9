import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/auth.service.ts';
import { errors } from '../errors/app-error.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import { analysisChannel } from './analysis-events.ts';

const CLOSE_NO_TOKEN = 4001;
const CLOSE_BAD_TOKEN = 4003;
const HEARTBEAT_MS = 30_000;

/**
 * `/ws/analysis?token=<ws_token>`: status and progress of the owner's analyses, pushed from whichever process
 * runs them. The ws token is single-use and burnt here; an access token is refused.
 */
export async function analysisSocketRoutes(app: FastifyInstance, deps: { auth: AuthService; pubsub: PubSub }): Promise<void> {
  app.route({
    method: 'GET',
    url: '/ws/analysis',
    schema: { hide: true },
    // A plain GET (no Upgrade) is bad input, answered in the studio error shape rather than an empty 404.
    handler: async () => {
      throw errors.invalidRequest('This endpoint speaks WebSocket: connect with an Upgrade: websocket request');
    },
    wsHandler: (socket, request) => {
      const token = (request.query as { token?: string }).token;
      if (!token) {
        socket.close(CLOSE_NO_TOKEN, 'Missing token');
        return;
      }
      let unsubscribe: (() => Promise<void>) | null = null;
      let closed = false;
      let alive = true;
      const heartbeat = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, HEARTBEAT_MS);
      socket.on('pong', () => (alive = true));
      socket.on('close', () => {
        closed = true;
        clearInterval(heartbeat);
        void unsubscribe?.();
      });
      socket.on('message', () => socket.send(JSON.stringify({ ack: true })));
      deps.auth.authenticateWsToken(token).then(async (user) => {
        const off = await deps.pubsub.subscribe(analysisChannel(user.id), (message) => socket.send(message));
        if (closed) return void off();
        unsubscribe = off;
        socket.send(JSON.stringify({ type: 'connected', user_id: user.id }));
      }, () => socket.close(CLOSE_BAD_TOKEN, 'Invalid or expired token'));
    },
  });
}
