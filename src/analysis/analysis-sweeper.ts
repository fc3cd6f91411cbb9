import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { AnalysesRepository, SessionRef } from './analyses.repository.ts';

/** How often studio.plugin.ts runs the sweep (and once at start). */
export const ANALYSIS_SWEEP_INTERVAL_MS = 3600 * 1000;
/**
 * A presigned direct upload is abandoned this long after its PUT URLs expired (SIGNED_URL_TTL_SECONDS): a client
 * that PUT its files in time has had an hour to finalize.
 */
export const ABANDONED_UPLOAD_GRACE_MS = 3600 * 1000;
/** The reason an abandoned upload's row carries between the sweep's mark and its delete. */
export const ABANDONED_UPLOAD_REASON = 'Direct upload never finalized: its upload URLs expired';

/** Reservations handled per query; the sweep goes on until none is left. */
const BATCH = 200;
/** A user id as this service writes it into object keys (randomUUID: lower case). */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AnalysisSweeperDeps {
  analyses: AnalysesRepository;
  store: ObjectStore;
  /** How long a presigned PUT URL lives (SIGNED_URL_TTL_SECONDS). */
  signedUrlTtlSeconds: number;
}

export interface SweepReport {
  /** Direct uploads presigned and never finalized, removed with everything under their prefixes. */
  abandonedUploads: number;
  /** Sessions with objects in storage but no analysis: their prefixes emptied. */
  orphanSessions: number;
  /** Objects deleted for those orphan sessions. */
  orphanObjects: number;
}

/**
 * Personal data nothing can list or delete any more (issue 13, item 9): reservations of direct uploads that were
 * never finalized, and objects under a session's media or results prefix whose analysis row is gone (a process that
 * crashed between a delete's row and its prefixes, a user deleted with their analyses, an attempt that wrote after
 * a delete). Deleting an analysis already empties its prefixes; this catches what slipped past.
 */
export class AnalysisSweeper {
  constructor(private readonly deps: AnalysisSweeperDeps) {}

  async sweep(now = Date.now()): Promise<SweepReport> {
    const abandonedUploads = await this.sweepAbandonedUploads(now);
    const { sessions, objects } = await this.sweepOrphans();
    return { abandonedUploads, orphanSessions: sessions, orphanObjects: objects };
  }

  /**
   * Each reservation is first marked failed (one conditional UPDATE, so a finalize racing the sweep either wins
   * before it, or finds the session no longer waiting), then its prefixes are emptied, then the row goes. A sweep
   * cut short leaves the marked row, which the next one finds again; the session id stays taken until the end.
   */
  private async sweepAbandonedUploads(now: number): Promise<number> {
    const { analyses } = this.deps;
    const before = new Date(now - this.deps.signedUrlTtlSeconds * 1000 - ABANDONED_UPLOAD_GRACE_MS);
    const seen = new Set<string>();
    let removed = 0;
    for (;;) {
      const batch = (await analyses.findAbandonedUploads(before, ABANDONED_UPLOAD_REASON, BATCH)).filter((a) => !seen.has(a.id));
      if (batch.length === 0) return removed;
      for (const candidate of batch) {
        seen.add(candidate.id);
        const marked = await analyses.markAbandonedUpload(candidate.id, before, ABANDONED_UPLOAD_REASON);
        if (!marked) continue; // finalized or deleted meanwhile
        await this.emptySession(marked);
        if (await analyses.deleteAbandonedUpload(marked.id, ABANDONED_UPLOAD_REASON)) removed++;
      }
    }
  }

  /**
   * Lists every object under the media and results roots, groups them by session, and empties the prefixes of
   * sessions no analysis holds. Each is asked about again just before its delete, so a session id reserved since
   * the listing keeps its files (an upload reserves the id before it moves anything under it). Keys that do not
   * name a user id as this service writes them are left alone.
   */
  private async sweepOrphans(): Promise<{ sessions: number; objects: number }> {
    const candidates = new Map<string, SessionRef>();
    for (const root of SESSION_ROOTS) {
      for (const { key } of await this.deps.store.list(root)) {
        const [userId, sessionId, ...rest] = key.slice(root.length).split('/');
        if (!userId || !sessionId || rest.length === 0 || !USER_ID.test(userId)) continue;
        candidates.set(`${userId}/${sessionId}`, { userId, sessionId });
      }
    }
    const all = [...candidates.values()];
    const orphans: SessionRef[] = [];
    for (let i = 0; i < all.length; i += BATCH) {
      const chunk = all.slice(i, i + BATCH);
      const held = new Set((await this.deps.analyses.sessionsWithAnalysis(chunk)).map((s) => `${s.userId}/${s.sessionId}`));
      orphans.push(...chunk.filter((s) => !held.has(`${s.userId}/${s.sessionId}`)));
    }
    let sessions = 0;
    let objects = 0;
    for (const orphan of orphans) {
      if ((await this.deps.analyses.sessionsWithAnalysis([orphan])).length > 0) continue;
      objects += await this.emptySession(orphan);
      sessions++;
    }
    return { sessions, objects };
  }

  /** Deletes every object of a session, media and results; returns how many. */
  private async emptySession(session: SessionRef): Promise<number> {
    const { store } = this.deps;
    return (await store.deletePrefix(objectKeys.sessionMediaPrefix(session.userId, session.sessionId)))
      + (await store.deletePrefix(objectKeys.resultsPrefix(session.userId, session.sessionId)));
  }
}

/** `videos/` and `analysis-data/`: the first part of a session's media and results prefixes (docs/storage.md). */
const SESSION_ROOTS = [objectKeys.sessionMediaPrefix, objectKeys.resultsPrefix].map((prefixOf) => `${prefixOf('u', 's').split('/')[0]}/`);
