import type { FastifyBaseLogger } from 'fastify';
import { AppError, errors } from '../errors/app-error.ts';
import type { RateLimiter } from '../infra/rate-limit/rate-limiter.ts';
import { labelForAngle } from '../posture/live-angles.ts';
import type { PostureEvent, ValidatedEvent } from './live-session.ts';
import type { DailyCharge, LiveSessionsRepository, NewPostureEvent, SessionForEvents } from './live-sessions.repository.ts';
import { traceDelivery } from './delivery-trace.ts';
import type { PostureFeed } from './posture-feed.ts';
import { SessionStateCache } from './session-state-cache.ts';

export interface EventRateLimit {
  /** At most this many events per session in any window (SPEC: 10 per second). */
  events: number;
  windowMs: number;
}

/** Events stored per UTC day: per user, and per anonymous client IP (the IP that started the session). */
export interface DailyEventLimits {
  perUser: number;
  perIp: number;
}

export interface EventIngestDeps {
  sessions: LiveSessionsRepository;
  limiter: RateLimiter;
  feed: PostureFeed;
  rateLimit: EventRateLimit;
  dailyLimits: DailyEventLimits;
  /** Groups written at the same time: 1 for PGlite (one connection), a few for a PostgreSQL pool. */
  concurrency: number;
  cache?: SessionStateCache;
  log: Pick<FastifyBaseLogger, 'warn' | 'error'>;
}

interface Pending {
  sessionId: string;
  events: ValidatedEvent[];
  resolve(stored: number): void;
  reject(error: unknown): void;
}

/** A request that passed the session and per-second checks, with its session's state. */
interface Admitted {
  pending: Pending;
  session: SessionForEvents;
}

/** Requests per group: bounds the statement size (≤ 10 events each under the default limit). */
const MAX_GROUP = 200;
/** Subjects whose daily count is remembered (about 100 bytes each). */
const MAX_KNOWN_COUNTS = 50_000;

/**
 * Stores posture events with group commit: requests that arrive while the writers are busy wait and then share
 * one INSERT, so throughput does not fall to one statement per request. Each request still gets its own answer:
 * 404/409/429 requests are left out of the group and take no budget; the others' events are each stored whole,
 * or not at all.
 */
export class PostureEventIngest {
  readonly cache: SessionStateCache;
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** The UTC day whose older counters this process has already asked to delete (and of `knownCounts`). */
  private countsDay = '';
  /** Today's event count per quota subject, as this process's last charge of it answered. */
  private readonly knownCounts = new Map<string, number>();

  constructor(private readonly deps: EventIngestDeps) {
    this.cache = deps.cache ?? new SessionStateCache();
  }

  /** Resolves with the number of stored events once they are committed. @throws AppError 404, 409 or 429 */
  store(sessionId: string, events: ValidatedEvent[]): Promise<number> {
    traceDelivery('received', events);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ sessionId, events, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Requests parsed in the same turn of the event loop join one group.
        setImmediate(() => {
          this.scheduled = false;
          this.launch();
        });
      }
    });
  }

  private launch(): void {
    while (this.inFlight < this.deps.concurrency && this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      this.inFlight += 1;
      void this.storeGroupSafely(group).finally(() => {
        this.inFlight -= 1;
        this.launch();
      });
    }
  }

  private async storeGroupSafely(group: Pending[]): Promise<void> {
    try {
      await this.storeGroup(group);
    } catch (error) {
      // One request's failure must not fail strangers: retry each alone, so each gets its own outcome. (Budget
      // taken in the failed attempt is not given back: rate-limit stores have no rollback.)
      if (group.length === 1) group[0]!.reject(error);
      else for (const pending of group) await this.storeGroup([pending]).catch(pending.reject);
    }
  }

  private async storeGroup(group: Pending[]): Promise<void> {
    const { sessions, limiter, rateLimit } = this.deps;
    const states = await this.sessionStates(group.map((p) => p.sessionId));
    const refusals = new Map<Pending, AppError>();
    const admitted: Admitted[] = [];
    for (const pending of group) {
      const session = states.get(pending.sessionId);
      const refusal = refusalFor(session);
      if (refusal) refusals.set(pending, refusal);
      else admitted.push({ pending, session: session! });
    }
    // Budget is taken only for requests that are otherwise acceptable, in arrival order.
    const decisions = await Promise.all(admitted.map(({ pending }) => pending.events.length === 0
      ? { allowed: true as const }
      : limiter.consume(`live:events:${pending.sessionId}`,
        { limit: rateLimit.events, windowMs: rateLimit.windowMs, cost: pending.events.length })));
    const withinSecond: typeof admitted = [];
    admitted.forEach((entry, i) => {
      const decision = decisions[i]!;
      if (decision.allowed) withinSecond.push(entry);
      else {
        refusals.set(entry.pending, errors.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
          'Too many events per second'));
      }
    });
    const { day, charges, stored } = await this.chargeAndStore(withinSecond, refusals);
    const writing = withinSecond.filter(({ pending }) => !refusals.has(pending)).map(({ pending }) => pending);
    traceDelivery('committed', stored);
    const storedSessions = new Set(stored.map((e) => e.sessionId));
    // The cache said open but the INSERT found the session paused, ended or gone (changed by another process).
    const surprised = writing.filter((p) => p.events.length > 0 && !storedSessions.has(p.sessionId));
    if (surprised.length > 0) {
      for (const p of surprised) this.cache.forget(p.sessionId);
      const fresh = await this.sessionStates(surprised.map((p) => p.sessionId));
      for (const p of surprised) refusals.set(p, refusalFor(fresh.get(p.sessionId)) ?? errors.conflict('Session is not open'));
      const refunds = surprised.flatMap((p) => charges.get(p) ?? []);
      for (const refund of refunds) this.knownCounts.delete(refund.subject);
      await sessions.refundDailyEvents(refunds, day).catch((error: unknown) => {
        this.deps.log.warn({ err: error }, 'daily event budget refund failed');
      });
    }

    this.publish(stored);
    for (const pending of group) {
      const refusal = refusals.get(pending);
      if (refusal) pending.reject(refusal);
      else pending.resolve(pending.events.length);
    }
  }

  /**
   * The daily ceiling, exact across processes, and the write: requests are admitted in arrival order while they fit
   * in today's count of their subject, and in one round trip the admitted totals are added by a conditional upsert
   * and the events of the subjects charged are stored. A subject whose upsert found less room than counted (another
   * process charged it meanwhile) has all its requests in this group refused, and none of its events stored.
   *
   * The count is read from the database unless this process knows it from its own last charge (the upsert answers
   * the new count) and the group's events of that subject fit under the ceiling on that count: then the read is
   * skipped. A known count can be stale only by other processes' charges (or refunds); if the upsert then refuses
   * the subject, its requests are counted again from the database, charged again and their events stored (two more
   * round trips, only then), so the outcome is the one an exact read would have given.
   * @returns the charges taken, per request, for a refund if the write then skips the request; the stored events
   */
  private async chargeAndStore(
    entries: ReadonlyArray<Admitted>, refusals: Map<Pending, AppError>,
  ): Promise<{ day: string; charges: Map<Pending, DailyCharge>; stored: PostureEvent[] }> {
    const { sessions, dailyLimits } = this.deps;
    const limits = { user: dailyLimits.perUser, ip: dailyLimits.perIp };
    const now = new Date();
    const day = now.toISOString().slice(0, 10);
    const charges = new Map<Pending, DailyCharge>();
    const costly = entries.filter(({ pending }) => pending.events.length > 0);
    if (costly.length === 0) return { day, charges, stored: [] };
    if (day !== this.countsDay) {
      this.countsDay = day;
      this.knownCounts.clear();
      void sessions.forgetDailyEventCountsBefore(day).catch((error: unknown) => {
        this.deps.log.warn({ err: error }, 'forgetting old daily event counts failed');
      });
    }
    const asked = new Map<string, number>();
    for (const { pending, session } of costly) {
      asked.set(session.quotaSubject, (asked.get(session.quotaSubject) ?? 0) + pending.events.length);
    }
    const used = new Map<string, number>();
    const trusted = new Set<string>();
    const unknown: string[] = [];
    for (const [subject, events] of asked) {
      const known = this.knownCounts.get(subject);
      if (known !== undefined && known + events <= this.limitOf(subject)) {
        used.set(subject, known);
        trusted.add(subject);
      } else unknown.push(subject);
    }
    if (unknown.length > 0) for (const [subject, count] of await sessions.dailyEventCounts(unknown, day)) used.set(subject, count);

    const first = this.admit(costly, used, now, refusals);
    const { charged, stored } = await sessions.chargeAndInsertEvents(first.totals, day, limits, eventRows(first.taken));
    const stale = this.settle(first.taken, charged, trusted, now, charges, refusals);
    if (stale.size > 0) {
      // Another process charged these subjects since this one last did: count again, as without the known counts.
      const recount = costly.filter(({ session }) => stale.has(session.quotaSubject));
      const again = this.admit(recount, await sessions.dailyEventCounts([...stale], day), now, refusals);
      const chargedAgain = await sessions.chargeDailyEvents(again.totals, day, limits);
      this.settle(again.taken, chargedAgain, new Set(), now, charges, refusals);
      const rows = eventRows(again.taken.filter(({ charge }) => chargedAgain.has(charge.subject)));
      stored.push(...await sessions.insertEventsIntoOpenSessions(rows));
    }
    return { day, charges, stored };
  }

  /** Admits `entries` in arrival order while each subject's `used` count leaves room; refuses the others. */
  private admit(entries: ReadonlyArray<Admitted>, used: ReadonlyMap<string, number>, now: Date, refusals: Map<Pending, AppError>):
    { taken: Array<Admitted & { charge: DailyCharge }>; totals: DailyCharge[] } {
    const totals = new Map<string, number>();
    const taken: Array<Admitted & { charge: DailyCharge }> = [];
    for (const entry of entries) {
      const subject = entry.session.quotaSubject;
      const limit = this.limitOf(subject);
      const count = (used.get(subject) ?? 0) + (totals.get(subject) ?? 0);
      if (count + entry.pending.events.length > limit) refusals.set(entry.pending, this.dailyRefusal(limit, now));
      else {
        totals.set(subject, (totals.get(subject) ?? 0) + entry.pending.events.length);
        taken.push({ ...entry, charge: { subject, events: entry.pending.events.length } });
      }
    }
    return { taken, totals: [...totals].map(([subject, events]) => ({ subject, events })) };
  }

  /**
   * Records what the upsert charged: requests of a subject it refused are refused, unless the subject's count was a
   * known (not read) one. @returns the subjects whose known count proved stale (their requests neither charged nor refused)
   */
  private settle(
    taken: ReadonlyArray<Admitted & { charge: DailyCharge }>, charged: ReadonlyMap<string, number>, trusted: ReadonlySet<string>,
    now: Date, charges: Map<Pending, DailyCharge>, refusals: Map<Pending, AppError>,
  ): Set<string> {
    this.rememberCounts(charged);
    const stale = new Set<string>();
    for (const { pending, charge } of taken) {
      if (charged.has(charge.subject)) charges.set(pending, charge);
      else {
        this.knownCounts.delete(charge.subject);
        if (trusted.has(charge.subject)) stale.add(charge.subject);
        else refusals.set(pending, this.dailyRefusal(this.limitOf(charge.subject), now));
      }
    }
    return stale;
  }

  private dailyRefusal(limit: number, now: Date): AppError {
    return errors.rateLimited(secondsUntilNextUtcDay(now), `Too many events today: at most ${limit} a day`);
  }

  private limitOf(subject: string): number {
    return subject.startsWith('user:') ? this.deps.dailyLimits.perUser : this.deps.dailyLimits.perIp;
  }

  private rememberCounts(counts: ReadonlyMap<string, number>): void {
    // Bounded: past this many subjects in a day, start over (a forgotten count is only read again).
    if (this.knownCounts.size + counts.size > MAX_KNOWN_COUNTS) this.knownCounts.clear();
    for (const [subject, count] of counts) this.knownCounts.set(subject, count);
  }

  /** Cached states, and one query for the rest. A cached pause is re-read: resuming elsewhere must take effect. */
  private async sessionStates(ids: string[]): Promise<Map<string, SessionForEvents>> {
    const states = new Map<string, SessionForEvents>();
    const missing = new Set<string>();
    for (const id of ids) {
      const cached = this.cache.get(id);
      if (cached && !cached.isPaused) states.set(id, cached);
      else missing.add(id);
    }
    if (missing.size > 0) {
      for (const [id, state] of await this.deps.sessions.findSessionsForEvents([...missing])) {
        this.cache.set(state);
        states.set(id, state);
      }
    }
    return states;
  }

  /** After commit, and not awaited: the events are safe, so a broker hiccup costs live delivery, not the request. */
  private publish(events: readonly PostureEvent[]): void {
    const byUser = new Map<string, PostureEvent[]>();
    for (const event of events) {
      if (event.userId === null) continue;
      const list = byUser.get(event.userId) ?? [];
      list.push(event);
      byUser.set(event.userId, list);
    }
    for (const [userId, userEvents] of byUser) {
      this.deps.feed.publish(userId, userEvents).catch((error: unknown) => {
        this.deps.log.warn({ err: error, userId }, 'live feed publish failed');
      });
    }
  }
}

function refusalFor(session: SessionForEvents | undefined): AppError | null {
  if (!session) return errors.notFound('Session');
  if (session.ended) return errors.conflict('Session has ended');
  if (session.isPaused) return errors.conflict('Session is paused');
  return null;
}

/** The rows to insert for `taken` requests, each event with its quota subject. */
function eventRows(taken: ReadonlyArray<Admitted & { charge: DailyCharge }>): Array<NewPostureEvent & { subject: string }> {
  return taken.flatMap(({ pending, session, charge }) => pending.events.map((event) => ({ ...toNewEvent(session, event), subject: charge.subject })));
}

/** The server labels an event from its angle and the owner's calibration when the client sent no label. */
function toNewEvent(session: SessionForEvents, event: ValidatedEvent): NewPostureEvent {
  const label = event.label ?? (event.angle === null ? null : labelForAngle(event.angle, session.baselineAngle ?? 0));
  return { ...event, label, sessionId: session.id, userId: session.userId };
}

function secondsUntilNextUtcDay(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}
