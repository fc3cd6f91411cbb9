import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AuthService } from '../auth/auth.service.ts';
import type { VerifiedToken } from '../auth/token.service.ts';
import { errors, isAppError } from '../errors/app-error.ts';
import { liveErrors } from '../http/common.schemas.ts';
import { SOCKET_CLOSE, socketSessionOf, type GuardedSocket, type SocketGuard, type SocketSession } from '../http/guarded-socket.ts';
import type { Unsubscribe } from '../infra/pubsub/pubsub.ts';
import type { User } from '../users/user.ts';
import type { LiveSessionsService } from './live-sessions.service.ts';
import { PostureSocketQuery, SOCKET_ACK, toPostureEventBody, type PostureSocketMessage } from './live.schemas.ts';
import { traceDelivery } from './delivery-trace.ts';
import type { FeedEvent, PostureFeed } from './posture-feed.ts';

export interface PostureSocketRoutesDeps {
  auth: AuthService;
  sessions: LiveSessionsService;
  feed: PostureFeed;
  sockets: SocketGuard;
  heartbeatMs?: number;
}

const HISTORY_SIZE = 5;

interface FeedState {
  ready: boolean;
  pendingAcks: number;
  unsubscribe: Unsubscribe | null;
  closed: boolean;
}

/**
 * WebSocket `/ws/posture/?token=`: the user's last events, then each new event of that user's sessions only,
 * whichever API process stored it. Expects @fastify/websocket registered on the root instance.
 */
export async function postureSocketRoutes(fastify: FastifyInstance, deps: PostureSocketRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, sessions, feed, sockets, heartbeatMs = 30_000 } = deps;
  const alive = new Map<WebSocket, boolean>();

  // Heartbeat: a socket that did not answer the previous ping is dead (a vanished network, a sleeping laptop).
  const heartbeat = setInterval(() => {
    for (const [socket, answered] of alive) {
      if (!answered) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  // Closes our sockets with "going away" before the server stops, so clients know to reconnect elsewhere.
  app.addHook('preClose', async () => {
    clearInterval(heartbeat);
    for (const socket of alive.keys()) socket.close(SOCKET_CLOSE.goingAway, 'Server shutting down');
  });

  app.route({
    method: 'GET',
    url: '/ws/posture/',
    schema: {
      tags: ['live: sessions'],
      summary: 'WebSocket feed of the current user\'s posture events',
      description: 'Connect with `?token=<access token or ws token>`. Close 4001: no token; 4003: bad token; '
        + '4005: token expired; 4006: logged out; 4008: client not reading; 4009: too many open sockets for this user; '
        + '4029: too many messages (see docs/live-api.md). Server messages: `{type:"history", events}` (last 5) on open, then `{type:"posture", event}` per new event '
        + 'of your sessions. Any client message is answered `{ack:true}`. A plain GET answers 400.',
      querystring: PostureSocketQuery,
      response: liveErrors(400),
    },
    handler: async () => {
      throw errors.invalidRequest('This endpoint speaks WebSocket: connect with an Upgrade: websocket request');
    },
    wsHandler: (socket, request) => {
      const token = (request.query as { token?: string }).token;
      const state: FeedState = { ready: false, pendingAcks: 0, unsubscribe: null, closed: false };
      const guarded = sockets.guard(socket, () => {
        if (state.ready) guarded.send(SOCKET_ACK);
        else state.pendingAcks += 1;
      });
      alive.set(socket, true);
      socket.on('pong', () => alive.set(socket, true));
      socket.on('close', () => {
        state.closed = true;
        alive.delete(socket);
        state.unsubscribe?.().catch(() => {});
      });
      if (!token) {
        guarded.close(SOCKET_CLOSE.noToken, 'Authentication token required');
        return;
      }
      openFeed(guarded, token, state).catch((error: unknown) => {
        if (!isAppError(error) || error.code === 'internal') request.log.error({ err: error }, 'posture socket failed');
        const badToken = isAppError(error) && (error.code === 'invalid_token' || error.code === 'unauthenticated');
        guarded.close(badToken ? SOCKET_CLOSE.badToken : SOCKET_CLOSE.internal, badToken ? 'Invalid token' : 'Internal error');
      });
    },
  });

  async function openFeed(guarded: GuardedSocket, token: string, state: FeedState): Promise<void> {
    const session = await authenticateSocket(auth, token);
    if (!sockets.admit(guarded, session)) return;
    const send = (message: PostureSocketMessage | string) => {
      guarded.send(typeof message === 'string' ? message : JSON.stringify(message));
    };
    // Subscribe before reading the history, holding live events back until it is sent: an event stored in
    // between is then in the history, in the held-back list, or both (and sent once).
    let heldBack: FeedEvent[] | null = [];
    let lastSentId = 0;
    const deliver = (events: FeedEvent[]) => {
      if (heldBack) {
        heldBack.push(...events);
        return;
      }
      for (const event of events) {
        guarded.send(event.message);
        traceDelivery('sent', event);
      }
    };
    const unsubscribe = await feed.subscribe(session.userId, deliver);
    if (state.closed) {
      await unsubscribe();
      return;
    }
    state.unsubscribe = unsubscribe;
    const history = (await sessions.recentUserEvents(session.userId, HISTORY_SIZE)).map(toPostureEventBody);
    send({ type: 'history', events: history });
    lastSentId = history.at(-1)?.id ?? 0;
    const pending = heldBack;
    heldBack = null;
    for (const event of pending) if (event.id > lastSentId) guarded.send(event.message);
    state.ready = true;
    for (; state.pendingAcks > 0; state.pendingAcks--) send(SOCKET_ACK);
  }
}

/** Accepts an access token, or else a single-use ws token (burnt here). */
async function authenticateSocket(auth: AuthService, token: string): Promise<SocketSession> {
  let verified: { user: User; token: VerifiedToken };
  try {
    verified = await auth.authenticate(token);
    return socketSessionOf(verified.token, 'access');
  } catch (error) {
    if (!isAppError(error) || error.code !== 'invalid_token') throw error;
  }
  verified = await auth.authenticateWsSession(token);
  return socketSessionOf(verified.token, 'ws');
}
