import type { WebSocket } from 'ws';
import { REVOKED_CHANNEL } from '../auth/revocation-cache.ts';
import type { VerifiedToken } from '../auth/token.service.ts';
import type { PubSub, Unsubscribe } from '../infra/pubsub/pubsub.ts';

/**
 * Close codes of the app's WebSockets (`/ws/posture/`, `/ws/analysis`), documented in docs/live-api.md. The 4000
 * range is the application's own; the last digits echo the matching HTTP status where there is one.
 */
export const SOCKET_CLOSE = {
  noToken: 4001,
  badToken: 4003,
  /** The token the socket was opened with reached its expiry. */
  tokenExpired: 4005,
  /** The token the socket was opened with was revoked (logout), in this process or another. */
  loggedOut: 4006,
  /** More than the send-buffer limit sat unread: the client does not read what it is sent. */
  tooSlow: 4008,
  /** This user already holds the per-user number of open sockets in this process. */
  tooManySockets: 4009,
  /** Messages arrived faster than the per-socket rate and burst allow. */
  tooManyMessages: 4029,
  goingAway: 1001,
  internal: 1011,
} as const;

export interface SocketLimits {
  /** Open sockets per user in one process, every endpoint together. */
  maxPerUser: number;
  messagesPerSecond: number;
  messageBurst: number;
  /** Unsent bytes a socket may hold before it is closed as too slow. */
  maxBufferedBytes: number;
}

/** Who a socket belongs to, and the token (an access token, or a ws token's parent) that ends its life. */
export interface SocketSession {
  userId: string;
  jti: string;
  /** Null when unknown: the socket then ends only by logout, heartbeat or either side closing. */
  expiresAt: Date | null;
}

/**
 * The token whose revocation or expiry ends a socket: the access token itself, or the access token that asked for a
 * ws token (the ws token's own 5 minutes bound only when it may be used to connect).
 */
export function socketSessionOf(token: VerifiedToken, kind: 'access' | 'ws'): SocketSession {
  if (kind === 'access') return { userId: token.userId, jti: token.jti, expiresAt: token.expiresAt };
  return { userId: token.userId, jti: token.parentJti ?? token.jti, expiresAt: token.parentExpiresAt ?? null };
}

/** Revocations remembered for sockets still authenticating when the news came (they checked the token before). */
const RECENT_REVOCATION_MS = 60_000;
/** setTimeout fires at once for delays past 2^31-1 ms (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One process's WebSockets: every send goes through a buffer check, every incoming message through a token
 * bucket, and each user's sockets are counted and indexed by token, so a logout or an expiry closes them. A
 * client that floods tiny messages and never reads once took a server to 3.9 GB: nothing here grows with what a
 * client does beyond these limits.
 */
export class SocketGuard {
  private readonly byUser = new Map<string, Set<GuardedSocket>>();
  private readonly byJti = new Map<string, Set<GuardedSocket>>();
  private readonly recentlyRevoked = new Map<string, number>();
  private unsubscribe: Unsubscribe | null = null;

  constructor(private readonly deps: {
    limits: SocketLimits;
    pubsub: PubSub;
    onError?: (error: unknown) => void;
  }) {}

  /** Starts hearing revocations published by any process. */
  async start(): Promise<void> {
    this.unsubscribe = await this.deps.pubsub.subscribe(REVOKED_CHANNEL, (jti) => this.closeRevoked(jti));
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = null;
  }

  /** Tells every process (this one included) that `jti` was revoked; a broker failure is reported, not thrown. */
  async announceRevoked(jti: string): Promise<void> {
    // Local sockets close now, without waiting for the broker's round trip.
    this.closeRevoked(jti);
    try {
      await this.deps.pubsub.publish(REVOKED_CHANNEL, jti);
    } catch (error) {
      this.deps.onError?.(error);
    }
  }

  /** Wraps a freshly upgraded socket; `onMessage` sees only messages within the rate, while the socket is open. */
  guard(socket: WebSocket, onMessage: () => void): GuardedSocket {
    const guarded = new GuardedSocket(socket, this.deps.limits, onMessage);
    socket.on('close', () => this.forget(guarded));
    return guarded;
  }

  /** Counts the socket against its user and ties it to its token; false (and closed) when over the cap or revoked. */
  admit(guarded: GuardedSocket, session: SocketSession): boolean {
    if (!guarded.isOpen()) return false;
    this.pruneRevocations();
    if (this.recentlyRevoked.has(session.jti)) {
      guarded.close(SOCKET_CLOSE.loggedOut, 'Logged out');
      return false;
    }
    const own = this.byUser.get(session.userId) ?? new Set<GuardedSocket>();
    if (own.size >= this.deps.limits.maxPerUser) {
      guarded.close(SOCKET_CLOSE.tooManySockets, `Too many open sockets (at most ${this.deps.limits.maxPerUser} per user)`);
      return false;
    }
    own.add(guarded);
    this.byUser.set(session.userId, own);
    const sameToken = this.byJti.get(session.jti) ?? new Set<GuardedSocket>();
    sameToken.add(guarded);
    this.byJti.set(session.jti, sameToken);
    guarded.session = session;
    if (session.expiresAt) guarded.closeAt(session.expiresAt, SOCKET_CLOSE.tokenExpired, 'Token expired');
    return true;
  }

  /** Open sockets this process counts for a user (for tests and metrics). */
  openSockets(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  private closeRevoked(jti: string): void {
    this.pruneRevocations();
    // Re-inserted so the map stays in arrival order, which the pruning relies on.
    this.recentlyRevoked.delete(jti);
    this.recentlyRevoked.set(jti, Date.now());
    for (const guarded of this.byJti.get(jti) ?? []) guarded.close(SOCKET_CLOSE.loggedOut, 'Logged out');
  }

  private forget(guarded: GuardedSocket): void {
    guarded.clearTimer();
    const session = guarded.session;
    if (!session) return;
    removeFrom(this.byUser, session.userId, guarded);
    removeFrom(this.byJti, session.jti, guarded);
  }

  private pruneRevocations(): void {
    const oldest = Date.now() - RECENT_REVOCATION_MS;
    for (const [jti, at] of this.recentlyRevoked) {
      if (at >= oldest) break;
      this.recentlyRevoked.delete(jti);
    }
  }
}

/** A socket whose sends are bounded by its unread bytes and whose incoming messages are bounded by a token bucket. */
export class GuardedSocket {
  session: SocketSession | null = null;
  private tokens: number;
  private refilledAt = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly socket: WebSocket, private readonly limits: SocketLimits, onMessage: () => void) {
    this.tokens = limits.messageBurst;
    socket.on('message', () => {
      // A closing socket still parses what arrives: ignoring it keeps a flood from costing more than the parse.
      if (!this.isOpen()) return;
      if (!this.takeToken()) {
        this.close(SOCKET_CLOSE.tooManyMessages, 'Too many messages');
        return;
      }
      onMessage();
    });
  }

  isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Sends unless the client already holds more than the limit unread, in which case it is closed instead: the
   * bytes a socket can pin are the limit plus one message. False when nothing was sent.
   */
  send(message: string): boolean {
    if (!this.isOpen()) return false;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      this.close(SOCKET_CLOSE.tooSlow, 'Client too slow');
      return false;
    }
    this.socket.send(message);
    return true;
  }

  close(code: number, reason: string): void {
    this.clearTimer();
    if (this.socket.readyState === this.socket.CONNECTING || this.isOpen()) this.socket.close(code, reason);
  }

  /** Closes the socket at `when` (at once when already past). */
  closeAt(when: Date, code: number, reason: string): void {
    this.clearTimer();
    const wait = when.getTime() - Date.now();
    if (wait <= 0) {
      this.close(code, reason);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (wait > MAX_TIMER_MS) this.closeAt(when, code, reason);
      else this.close(code, reason);
    }, Math.min(wait, MAX_TIMER_MS));
    this.timer.unref();
  }

  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private takeToken(): boolean {
    const now = performance.now();
    const { messagesPerSecond, messageBurst } = this.limits;
    this.tokens = Math.min(messageBurst, this.tokens + ((now - this.refilledAt) / 1000) * messagesPerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set?.delete(value)) return;
  if (set.size === 0) index.delete(key);
}
