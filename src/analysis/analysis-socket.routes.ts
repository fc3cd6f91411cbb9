import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/auth.service.ts';
import { errors } from '../errors/app-error.ts';
import { SOCKET_CLOSE, socketSessionOf, type SocketGuard } from '../http/guarded-socket.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import { analysisChannel } from './analysis-events.ts';

const HEARTBEAT_MS = 30_000;
const ACK = JSON.stringify({ ack: true });

export interface AnalysisSocketRoutesDeps {
  auth: AuthService;
  pubsub: PubSub;
  sockets: SocketGuard;
}

/**
 * `/ws/analysis?token=<ws_token>`: status and progress of the owner's analyses, pushed from whichever process
 * runs them. The ws token is single-use and burnt here; an access token is refused. Close codes: SOCKET_CLOSE.
 */
export async function analysisSocketRoutes(app: FastifyInstance, deps: AnalysisSocketRoutesDeps): Promise<void> {
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
      const guarded = deps.sockets.guard(socket, () => guarded.send(ACK));
      if (!token) {
        guarded.close(SOCKET_CLOSE.noToken, 'Missing token');
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
      deps.auth.authenticateWsSession(token).then(async ({ user, token: verified }) => {
        if (!deps.sockets.admit(guarded, socketSessionOf(verified, 'ws'))) return;
        const off = await deps.pubsub.subscribe(analysisChannel(user.id), (message) => guarded.send(message));
        if (closed) return void off();
        unsubscribe = off;
        guarded.send(JSON.stringify({ type: 'connected', user_id: user.id }));
      }, () => guarded.close(SOCKET_CLOSE.badToken, 'Invalid or expired token')).catch((error: unknown) => {
        request.log.error({ err: error }, 'analysis socket failed');
        guarded.close(SOCKET_CLOSE.internal, 'Internal error');
      });
    },
  });
}
