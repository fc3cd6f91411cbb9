import { errors } from '../errors/app-error.ts';
import { transactionExecutor } from '../infra/db/transaction-executor.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';
import type { JobQueue } from '../infra/queue/job-queue.ts';
import type { RateLimiter } from '../infra/rate-limit/rate-limiter.ts';
import type { User } from '../users/user.ts';
import type { AnalysesRepository, Analysis, MediaFile } from './analyses.repository.ts';
import type { AnalysisCancels } from './analysis-cancels.ts';
import { summariseWeeks, weekStart, type WeeklySummary } from './analysis-insights.ts';
import { framesCsv } from './frames-csv.ts';
import { assessedSubject, type AssessedSubject } from './subject-details.ts';
import { framesMot, framesTrc } from './opensim-export.ts';
import type { DetailedResult } from './view-analysis.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESULT_VIEWS = new Set(['front', 'left', 'right', 'back']);
/** Weeks of history a summary covers, the current one included. */
const SUMMARY_WEEKS = 4;

export interface AnalysesServiceDeps {
  analyses: AnalysesRepository;
  store: ObjectStore;
  queue: JobQueue;
  models: readonly string[];
  signedUrlTtlSeconds: number;
  /** Tells the process running a deleted analysis to stop at once (else it notices at its next heartbeat). */
  cancels?: AnalysisCancels;
  /** Counts retries; without it retries are unbounded (tests of other things). */
  rateLimiter?: RateLimiter;
  retryLimits?: { perAnalysisPerDay: number; perUserPerHour: number };
}

const HOUR_MS = 3600 * 1000;

/** What an analysis' stored result holds that the listings read. */
interface StoredResult {
  summary?: string;
  views?: Record<string, { file_type?: string } | undefined>;
}

/** An analysis as listed: the row, the name it was uploaded under, its one-line feedback and its media. */
export interface ListedAnalysis {
  analysis: Analysis;
  filename: string | null;
  feedback: string | null;
  /** View → signed URL of the uploaded file. */
  uploads: Record<string, string>;
}

export interface AnalysisDetail extends ListedAnalysis {
  postureResult: string | null;
  analysisJsonUrls: Record<string, string>;
  overlayUrls: Record<string, string>;
  /** Video views only: the overlay video (MP4) and the angles-over-time chart (SVG). */
  overlayVideoUrls: Record<string, string>;
  chartUrls: Record<string, string>;
  feedbackJsonUrl: string | null;
  reportUrl: string | null;
  /** The person assessed, as given at upload. */
  subject: AssessedSubject;
}

/** A user's analysis statistics. Scores are on 0..100, except where a field says otherwise. */
export interface UserAnalysisStatistics {
  /** Mean overall score of the user's analyses as a 0..1 fraction (the studio web client shows it times 100). */
  averageOverallScore: number | null;
  latestAnalysisAt: Date | null;
  totalAnalyses: number;
  currentWeekAnalyses: number;
}

/** A weekly summary as the studio web client reads it: the trends and insights, and when and how they were made. */
export interface InsightsSummary extends WeeklySummary {
  status: 'completed';
  /** The insights are rules over the user's own scores, not a language model's text. */
  model_name: string;
  date_generated: string;
}

/**
 * The studio's analyses as their owners (and admins) see them: listing, details with signed URLs, retry, delete,
 * per-frame CSV, weekly insights and statistics. Routes only translate between HTTP and this.
 */
export class AnalysesService {
  constructor(private readonly deps: AnalysesServiceDeps) {}

  /** The analysis when this user may see it (owner or admin); anything else is "not found", as if absent. */
  async visible(id: string, user: User): Promise<Analysis> {
    const analysis = UUID.test(id) ? await this.deps.analyses.findById(id) : null;
    if (!analysis || (analysis.userId !== user.id && !user.isAdmin)) throw errors.notFound('Analysis');
    return analysis;
  }

  async list(userId: string, page: { limit: number; cursor?: string | undefined }): Promise<{ items: ListedAnalysis[]; nextCursor: string | null }> {
    const { analyses, nextCursor } = await this.deps.analyses.listByUser(userId, page);
    const files = await this.deps.analyses.mediaFilesOf(analyses.map((a) => a.id));
    const byAnalysis = new Map<string, MediaFile[]>();
    for (const file of files) byAnalysis.set(file.analysisId, [...(byAnalysis.get(file.analysisId) ?? []), file]);
    const items = await Promise.all(analyses.map((analysis) => this.listed(analysis, byAnalysis.get(analysis.id) ?? [])));
    return { items, nextCursor };
  }

  async detail(analysis: Analysis): Promise<AnalysisDetail> {
    const listed = await this.listed(analysis, await this.deps.analyses.mediaFiles(analysis.id));
    const result = analysis.result as StoredResult | null;
    const { userId, sessionId } = analysis;
    const completed = analysis.status === 'completed';
    const resultViews = completed ? Object.keys(result?.views ?? {}).filter((view) => RESULT_VIEWS.has(view)) : [];
    const videoViews = resultViews.filter((view) => result?.views?.[view]?.file_type === 'video');
    const urls = async (keyOf: (view: string) => string, views = resultViews) =>
      Object.fromEntries(await Promise.all(views.map(async (view) => [view, await this.sign(keyOf(view))] as const)));
    return {
      ...listed,
      postureResult: result?.views ? JSON.stringify(result.views) : null,
      analysisJsonUrls: await urls((view) => objectKeys.detailed(userId, sessionId, view)),
      overlayUrls: await urls((view) => objectKeys.overlay(userId, sessionId, view)),
      overlayVideoUrls: await urls((view) => objectKeys.overlayVideo(userId, sessionId, view), videoViews),
      chartUrls: await urls((view) => objectKeys.angleChart(userId, sessionId, view), videoViews),
      feedbackJsonUrl: completed ? await this.sign(objectKeys.feedback(userId, sessionId)) : null,
      reportUrl: completed ? await this.reportUrl(analysis) : null,
      subject: assessedSubject(analysis),
    };
  }

  async reportUrl(analysis: Analysis): Promise<string> {
    if (analysis.status !== 'completed') {
      throw errors.conflict(`The report is ready when the analysis is completed (now ${analysis.status})`);
    }
    return this.sign(objectKeys.report(analysis.userId, analysis.sessionId), `${analysis.sessionId}_report.pdf`);
  }

  /** One view's per-frame series as CSV, with the file name to download it under. */
  async framesCsv(analysis: Analysis, view: string): Promise<{ filename: string; csv: string }> {
    const detailed = await this.completedView(analysis, view);
    return { filename: `${analysis.sessionId}_${view}_frames.csv`, csv: framesCsv(detailed) };
  }

  /** One view's keypoint trajectories (`trc`) or angles (`mot`) as OpenSim files, as Sports2D writes them. */
  async framesOpenSim(analysis: Analysis, view: string, format: 'trc' | 'mot'): Promise<{ filename: string; text: string }> {
    const detailed = await this.completedView(analysis, view);
    const filename = `${analysis.sessionId}_${view}.${format}`;
    return { filename, text: (format === 'trc' ? framesTrc : framesMot)(detailed, { name: filename }) };
  }

  private async completedView(analysis: Analysis, view: string): Promise<DetailedResult> {
    if (!RESULT_VIEWS.has(view)) throw errors.invalidRequest('view must be front, left, right or back');
    if (analysis.status !== 'completed') throw errors.conflict(`The analysis is ${analysis.status}`);
    const key = objectKeys.detailed(analysis.userId, analysis.sessionId, view);
    if (!(await this.deps.store.head(key))) throw errors.notFound(`Results of view ${view}`);
    return JSON.parse((await this.deps.store.getBuffer(key)).toString()) as DetailedResult;
  }

  /**
   * Removes an analysis with its media and results; returns the stored names of its files. The row goes first (no
   * worker can claim it any more and the session id is free), then the objects: a crash between the two leaves only
   * orphans under a prefix nobody lists.
   */
  async delete(analysis: Analysis): Promise<string[]> {
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    await this.deps.analyses.delete(analysis.id);
    // A running attempt stops now; whatever it writes after the prefixes are emptied, it removes itself once it
    // finds the row gone (analysis-runner.ts).
    this.deps.cancels?.publish(analysis.id);
    await this.deps.store.deletePrefix(objectKeys.sessionMediaPrefix(analysis.userId, analysis.sessionId));
    await this.deps.store.deletePrefix(objectKeys.resultsPrefix(analysis.userId, analysis.sessionId));
    return files.map(storedName);
  }

  /** The user's analysis of this session id (the client's name for it), with everything it holds. */
  async deleteBySessionId(userId: string, sessionId: string): Promise<string[]> {
    return this.delete(await this.bySessionId(userId, sessionId));
  }

  /** One file of a session, by its stored name (`cx_front.mp4`) or the name it was uploaded with. */
  async deleteFile(userId: string, sessionId: string, filename: string): Promise<string[]> {
    const analysis = await this.bySessionId(userId, sessionId);
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    const file = files.find((f) => storedName(f) === filename || f.originalFilename === filename);
    if (!file) throw errors.notFound('File');
    return this.removeFile(analysis, file, files.length);
  }

  /**
   * One file found by its stored name alone, as the documented clients ask. Unlike a delete with session_id, the
   * name the file was uploaded with does not count: that would make far more requests ambiguous.
   */
  async deleteFileByStoredName(userId: string, filename: string): Promise<{ sessionId: string; deleted: string[] }> {
    const found = await this.deps.analyses.findMediaFilesByStoredName(userId, filename);
    if (found.length === 0) throw errors.notFound('File');
    if (found.length > 1) {
      throw errors.conflict(`Several of your sessions have a file named ${filename}: add session_id to say which one`, {
        session_ids: [...new Set(found.map((f) => f.sessionId))],
      });
    }
    const file = found[0]!;
    const analysis = await this.deps.analyses.findById(file.analysisId);
    if (!analysis) throw errors.notFound('File'); // deleted meanwhile
    const filesInSession = (await this.deps.analyses.mediaFiles(analysis.id)).length;
    return { sessionId: analysis.sessionId, deleted: await this.removeFile(analysis, file, filesInSession) };
  }

  private async bySessionId(userId: string, sessionId: string): Promise<Analysis> {
    const analysis = await this.deps.analyses.findBySession(userId, sessionId);
    if (!analysis) throw errors.notFound('Session');
    return analysis;
  }

  private async removeFile(analysis: Analysis, file: MediaFile, filesInSession: number): Promise<string[]> {
    await this.deps.analyses.removeMediaFile(analysis.id, file.view);
    await this.deps.store.delete(file.objectKey);
    // The last file gone: the analysis is gone too, and its session id can be used again.
    if (filesInSession === 1) await this.delete(analysis);
    return [storedName(file)];
  }

  /** A failed or completed analysis runs again (optionally with another model); its old results go. */
  async retry(analysis: Analysis, model?: string): Promise<Analysis> {
    if (model !== undefined) this.checkModel(model);
    await this.chargeRetry(analysis);
    const { analyses, queue } = this.deps;
    const reset = await analyses.withTransaction(async (tx) => {
      const row = await analyses.resetForRetry(analysis.id, model, tx);
      if (row) await queue.send('analyse-session', { analysisId: row.id }, { tx: transactionExecutor(tx) });
      return row;
    });
    if (!reset) throw errors.conflict(`Only a failed or completed analysis can be retried (this one is ${analysis.status})`);
    await this.deps.store.deletePrefix(objectKeys.resultsPrefix(analysis.userId, analysis.sessionId));
    return reset;
  }

  /**
   * Each retry runs a whole analysis again, so they are counted per analysis (per day) and per owner (per hour),
   * before anything changes. The analysis' budget is charged first: a refusal there leaves the owner's untouched.
   */
  private async chargeRetry(analysis: Analysis): Promise<void> {
    const { rateLimiter, retryLimits } = this.deps;
    if (!rateLimiter || !retryLimits) return;
    const budgets = [
      { key: `analysis-retry:${analysis.id}`, limit: retryLimits.perAnalysisPerDay, windowMs: 24 * HOUR_MS,
        message: `This analysis was retried ${retryLimits.perAnalysisPerDay} times today; try again later` },
      { key: `analysis-retry-user:${analysis.userId}`, limit: retryLimits.perUserPerHour, windowMs: HOUR_MS,
        message: `At most ${retryLimits.perUserPerHour} retries an hour; try again later` },
    ];
    for (const { key, limit, windowMs, message } of budgets) {
      const decision = await rateLimiter.consume(key, { limit, windowMs });
      if (!decision.allowed) throw errors.rateLimited(Math.ceil(decision.retryAfterMs / 1000), message);
    }
  }

  checkModel(model: string): void {
    const { models } = this.deps;
    if (!models.includes(model)) {
      throw errors.invalidRequest(`Invalid model: ${model}. Available models: [${models.map((m) => `'${m}'`).join(', ')}]`,
        { available_models: [...models] });
    }
  }

  /** Weekly trends and insights over the user's last weeks, computed now from the stored results. */
  async summary(userId: string, now = new Date()): Promise<InsightsSummary> {
    const since = new Date(weekStart(now).getTime() - (SUMMARY_WEEKS - 1) * 7 * 24 * 3600 * 1000);
    const weekly = summariseWeeks(await this.deps.analyses.listAllForUser(userId, since), now, SUMMARY_WEEKS);
    return { ...weekly, status: 'completed', model_name: 'postura-weekly-trends', date_generated: now.toISOString() };
  }

  async statistics(userId: string, now = new Date()): Promise<UserAnalysisStatistics> {
    const stats = await this.deps.analyses.statsForUser(userId, weekStart(now));
    return {
      averageOverallScore: stats.averageOverallScore === null ? null : Math.round(stats.averageOverallScore * 100) / 10_000,
      latestAnalysisAt: stats.latestAnalysisAt,
      totalAnalyses: stats.totalAnalyses,
      currentWeekAnalyses: stats.currentWeekAnalyses,
    };
  }

  private async listed(analysis: Analysis, files: readonly MediaFile[]): Promise<ListedAnalysis> {
    const result = analysis.result as StoredResult | null;
    return {
      analysis,
      filename: files[0]?.originalFilename ?? null,
      feedback: result?.summary ?? null,
      uploads: Object.fromEntries(await Promise.all(files.map(async (f) => [f.view, await this.sign(f.objectKey, f.originalFilename)] as const))),
    };
  }

  private sign(key: string, filename?: string): Promise<string> {
    return this.deps.store.signedGetUrl(key, { expiresInSeconds: this.deps.signedUrlTtlSeconds, ...(filename ? { filename } : {}) });
  }
}

/** The name a file is stored under: the last part of its object key (`cx_front.mp4`). */
export function storedName(file: MediaFile): string {
  return file.objectKey.split('/').at(-1)!;
}
