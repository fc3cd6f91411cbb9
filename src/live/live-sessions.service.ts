import { randomUUID } from 'node:crypto';
import { errors } from '../errors/app-error.ts';
import { DEFAULT_EVENT_INPUT_LIMITS, parseEventBatch, type EventInputLimits } from './event-input.ts';
import type { PostureEventIngest } from './event-ingest.ts';
import { isUuid, type LiveSession, type PostureEvent, type SessionSummary } from './live-session.ts';
import type { LiveSessionsRepository, OpenSessionCeiling } from './live-sessions.repository.ts';
import { resolveTotals, summarize, totalsFromAggregate, assertConsistentTotals, type GivenTotals } from './session-summary.ts';

export interface LiveSessionsServiceDeps {
  sessions: LiveSessionsRepository;
  ingest: PostureEventIngest;
  eventLimits?: EventInputLimits;
  /** Open sessions per user, and per client IP for anonymous ones (default: 20 each, counted over 24 h). */
  openSessions?: { perUser: OpenSessionCeiling; perIp: OpenSessionCeiling };
}

const DEFAULT_OPEN_SESSIONS = { perUser: { limit: 20, hours: 24 }, perIp: { limit: 20, hours: 24 } };

/** Who asks to read a session: its owner's user id, or null for an anonymous caller. */
export type Viewer = { userId: string } | null;

/**
 * Live sessions (SPEC 7). The session id is a capability: whoever holds it may post events, pause, resume and
 * end (the documented client sends no token). Reading events of an owned session needs the owner's token.
 */
export class LiveSessionsService {
  constructor(private readonly deps: LiveSessionsServiceDeps) {}

  /** @throws AppError rate_limited when the user (or the anonymous client's IP) holds too many open sessions */
  async start(userId: string | null, deviceId: string | null, clientIp: string): Promise<LiveSession> {
    const ceilings = this.deps.openSessions ?? DEFAULT_OPEN_SESSIONS;
    const ceiling = userId === null ? ceilings.perIp : ceilings.perUser;
    const outcome = await this.deps.sessions.startSessionWithinCeiling({ id: randomUUID(), userId, deviceId, clientIp }, ceiling);
    if (outcome.kind === 'refused') {
      throw errors.rateLimited(outcome.retryAfterSeconds,
        `Too many open sessions: at most ${ceiling.limit}; end one before starting another`);
    }
    return outcome.session;
  }

  /**
   * Validates the whole body (the route has already applied the privacy rule), then stores every event or none.
   * @returns events stored
   */
  async postEvents(sessionId: string, body: unknown): Promise<number> {
    if (!isUuid(sessionId)) throw errors.notFound('Session');
    const events = parseEventBatch(body, this.deps.eventLimits ?? DEFAULT_EVENT_INPUT_LIMITS);
    return this.deps.ingest.store(sessionId, events);
  }

  async setPaused(sessionId: string, paused: boolean): Promise<LiveSession> {
    if (!isUuid(sessionId)) throw errors.notFound('Session');
    const updated = await this.deps.sessions.setPausedUnlessEnded(sessionId, paused);
    this.deps.ingest.cache.forget(sessionId);
    if (updated) return updated;
    if (!(await this.deps.sessions.findSession(sessionId))) throw errors.notFound('Session');
    throw errors.conflict('Session has ended');
  }

  /** Ends once; ending again answers the stored summary (a client retrying after a lost answer is not refused). */
  async end(sessionId: string, given: GivenTotals): Promise<{ session: LiveSession; summary: SessionSummary }> {
    if (!isUuid(sessionId)) throw errors.notFound('Session');
    assertConsistentTotals(given);
    const outcome = await this.deps.sessions.endSession(sessionId, (aggregate) => resolveTotals(given, totalsFromAggregate(aggregate)));
    this.deps.ingest.cache.forget(sessionId);
    if (outcome.kind === 'not_found') throw errors.notFound('Session');
    const totals = outcome.session.totals ?? totalsFromAggregate(outcome.aggregate);
    return { session: outcome.session, summary: summarize(totals, outcome.aggregate) };
  }

  async listEvents(sessionId: string, viewer: Viewer, page: { afterId: number; limit: number }): Promise<PostureEvent[]> {
    await this.readableSession(sessionId, viewer);
    return this.deps.sessions.listSessionEvents(sessionId, page);
  }

  listUserSessions(userId: string, page: { limit: number; offset: number }): Promise<LiveSession[]> {
    return this.deps.sessions.listUserSessions(userId, page);
  }

  /** The user's latest events, oldest first (the WebSocket history backlog). */
  async recentUserEvents(userId: string, count: number): Promise<PostureEvent[]> {
    return (await this.deps.sessions.latestUserEvents(userId, count)).reverse();
  }

  /**
   * Anonymous sessions: the id is enough. Owned sessions: the owner's token; no token is 401, another user's
   * token 404 (as if the session did not exist: it is not theirs to know about).
   */
  private async readableSession(sessionId: string, viewer: Viewer): Promise<LiveSession> {
    const session = isUuid(sessionId) ? await this.deps.sessions.findSession(sessionId) : null;
    if (!session) throw errors.notFound('Session');
    if (session.userId === null) return session;
    if (!viewer) throw errors.unauthenticated();
    if (viewer.userId !== session.userId) throw errors.notFound('Session');
    return session;
  }
}
