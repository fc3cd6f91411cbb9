import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import { ObjectNotFoundError, type ObjectStore } from '../infra/object-store/object-store.ts';
import { JobAbortedError, type JobContext } from '../infra/queue/job-queue.ts';
import { renderOverlayPng } from '../overlay/overlay.ts';
import { overlayContent, type OverlayContent } from '../overlay/overlay-content.ts';
import { renderOverlayVideo } from '../overlay/overlay-video.ts';
import { MediaError } from '../pose/analyze-media.ts';
import { grabFrame } from '../pose/frame-grab.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { buildViewFeedback, summarizeAssessment } from '../posture/index.ts';
import type { View } from '../posture/profile.ts';
import { angleChartSvg, chartPng } from '../report/angle-charts.ts';
import { renderAnalysisReport } from '../report/pdf-report.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import type { AnalysesRepository, Analysis, MediaFile } from './analyses.repository.ts';
import { analysisReportInput, type AnalysedView } from './analysis-report.ts';
import type { AnalysisCancels } from './analysis-cancels.ts';
import type { AnalysisEvents } from './analysis-events.ts';
import { analyseViewMedia, type DetailedResult } from './view-analysis.ts';

export interface AnalysisRunnerDeps {
  analyses: AnalysesRepository;
  users: UsersRepository;
  store: ObjectStore;
  estimator: PoseEstimator;
  events: AnalysisEvents;
  /** Analyse every n-th video frame (null or absent: `analysisFps` frames a second of footage, default 10). */
  frameStep?: number | null;
  analysisFps?: number;
  /** Analysed frames of one video at most (config jobs.maxFrames; default no bound). */
  maxFrames?: number;
  /** Seconds between heartbeats (default 5); a claim takes over an attempt silent for three of them. */
  heartbeatSeconds?: number;
  /** Deletes reaching this process at once; without it a delete is noticed at the next heartbeat. */
  cancels?: AnalysisCancels;
  /**
   * The upload's content check, run again on the stored bytes before they are analysed (a store can be written
   * behind the upload's back); null: fine, else the reason. Without it the decoders' own bounds are the only check.
   */
  checkMedia?: (file: MediaFile, signal: AbortSignal) => Promise<string | null>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** One claimed run of an analysis: its id in the row, its signal, and every object key it may have written. */
interface Attempt {
  id: string;
  signal: AbortSignal;
  written: string[];
}

/** A failure that another attempt cannot fix (unreadable media, nobody in the picture): no retry. */
class PermanentAnalysisError extends Error {}

const DEFAULT_HEARTBEAT_SECONDS = 5;

/** Progress is written at most this often, so a long video does not turn into a stream of UPDATEs. */
const PROGRESS_STEP = 0.05;

/**
 * The analyse-session job: claim the analysis, analyse every view, write the results (detailed JSON, overlays,
 * feedback, PDF) under analysis-data/, then complete it. Transient failures throw so the queue retries with
 * backoff; on the last attempt, or for a permanent failure, the analysis is marked failed with a readable reason.
 */
export class AnalysisRunner {
  constructor(private readonly deps: AnalysisRunnerDeps) {}

  /**
   * Claims the analysis for this attempt. A claim is refused while another attempt's heartbeat is fresh, so a retried
   * job never runs beside a live one; it waits instead, since that attempt may be a process that just died (its
   * heartbeat goes stale within three intervals) and the job must not be dropped. Null: finished or deleted. Throws
   * when the job is aborted meanwhile, so the queue tries it again.
   */
  private async claim(job: JobContext<'analyse-session'>, attemptId: string, heartbeatSeconds: number): Promise<Analysis | null> {
    const { analyses } = this.deps;
    for (;;) {
      const claimed = await analyses.claim(job.data.analysisId, attemptId, heartbeatSeconds * 3);
      if (claimed) return claimed;
      const row = await analyses.findById(job.data.analysisId);
      if (!row || row.status === 'completed' || row.status === 'failed') return null;
      if (row.status === 'in_progress') {
        try {
          await delay(heartbeatSeconds * 1000, undefined, { signal: job.signal });
        } catch (error) {
          // Lease or shutdown while waiting: fail this try so the queue offers the job again. Returning would
          // complete the job and leave the analysis in_progress with nobody to finish it.
          throw job.signal.reason instanceof Error ? job.signal.reason : error;
        }
      }
    }
  }

  async run(job: JobContext<'analyse-session'>): Promise<void> {
    const { analyses, heartbeatSeconds = DEFAULT_HEARTBEAT_SECONDS } = this.deps;
    const attemptId = randomUUID();
    const analysis = await this.claim(job, attemptId, heartbeatSeconds);
    if (!analysis) return; // finished or deleted: nothing to do
    const controller = new AbortController();
    const stop = (reason: unknown) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const onJobAbort = () => stop(job.signal.reason);
    if (job.signal.aborted) onJobAbort();
    job.signal.addEventListener('abort', onJobAbort, { once: true });
    const deleted = () => stop(new JobAbortedError('cancelled', 'The analysis was deleted or taken over'));
    const unwatch = this.deps.cancels?.watch(analysis.id, deleted);
    const heartbeat = setInterval(() => {
      analyses.heartbeat(analysis.id, attemptId).then((held) => { if (!held) deleted(); },
        (error: unknown) => this.deps.log.warn({ analysisId: analysis.id, err: error }, 'analysis heartbeat failed'));
    }, heartbeatSeconds * 1000);
    const attempt: Attempt = { id: attemptId, signal: controller.signal, written: [] };
    try {
      await this.attempt(job, analysis, attempt);
    } finally {
      clearInterval(heartbeat);
      unwatch?.();
      job.signal.removeEventListener('abort', onJobAbort);
    }
  }

  private async attempt(job: JobContext<'analyse-session'>, analysis: Analysis, attempt: Attempt): Promise<void> {
    this.deps.events.publish(analysis, { status: 'in_progress', progress: 0 });
    try {
      await this.analyse(analysis, attempt);
    } catch (error) {
      if (attempt.signal.aborted) return this.stopped(analysis, attempt);
      const message = (error as Error).message;
      const permanent = error instanceof PermanentAnalysisError;
      this.deps.log.warn({ analysisId: analysis.id, attempt: job.retryCount + 1, permanent, err: error }, 'analysis attempt failed');
      if (permanent || job.isLastAttempt) {
        const failed = await this.deps.analyses.fail(analysis.id, message, attempt.id);
        if (failed) this.deps.events.publish(failed, { status: 'failed', error: message });
        // The row says why; the job is done. Throwing would also dead-letter it, and the dead letter's handler
        // would then fail a run the user had started again in the meantime (a retry resets the row to pending).
        return;
      }
      // The queue's retry must be able to claim it at once, not after this attempt's heartbeat goes stale.
      await this.deps.analyses.release(analysis.id, attempt.id);
      throw error;
    }
  }

  /**
   * After the attempt's signal: a deleted analysis leaves nothing of this attempt in storage; a lease run out is
   * final (the same video would run out of it again); a shutdown lets go of the claim and throws, so the queue
   * offers the job again later.
   */
  private async stopped(analysis: Analysis, attempt: Attempt): Promise<void> {
    const reason = attempt.signal.reason;
    const kind = reason instanceof JobAbortedError ? reason.reason : 'cancelled';
    this.deps.log.warn({ analysisId: analysis.id, reason: kind }, 'analysis stopped');
    if (kind === 'lease') {
      const failed = await this.deps.analyses.fail(analysis.id, (reason as Error).message, attempt.id);
      if (failed) this.deps.events.publish(failed, { status: 'failed', error: failed.error });
      return;
    }
    if (kind === 'shutdown') {
      await this.deps.analyses.release(analysis.id, attempt.id);
      throw reason;
    }
    await this.removeIfGone(analysis, attempt);
  }

  /** When the analysis no longer exists, what this attempt wrote goes too: nothing else lists or deletes it. */
  private async removeIfGone(analysis: Analysis, attempt: Attempt): Promise<void> {
    if (attempt.written.length === 0 || await this.deps.analyses.findById(analysis.id)) return;
    for (const key of attempt.written) await this.deps.store.delete(key);
    this.deps.log.info({ analysisId: analysis.id, objects: attempt.written.length }, 'results of a deleted analysis removed');
  }

  /** Writes one result object, recorded first so a delete racing the write still finds it to remove. */
  private async put(attempt: Attempt, key: string, body: Uint8Array, contentType: string): Promise<void> {
    attempt.signal.throwIfAborted();
    attempt.written.push(key);
    await this.deps.store.putBuffer(key, body, { contentType });
  }

  /** Dead letters: every attempt failed or the worker died on the last one. The analysis must not stay in progress. */
  async bury(job: JobContext<'analyse-session-dead'>): Promise<void> {
    const failed = await this.deps.analyses.fail(job.data.analysisId, 'Analysis did not finish: every attempt failed or timed out');
    if (failed) this.deps.events.publish(failed, { status: 'failed', error: failed.error });
  }

  private async analyse(analysis: Analysis, attempt: Attempt): Promise<void> {
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    if (files.length === 0) throw new PermanentAnalysisError('The session has no media files');
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'postura-analysis-'));
    let reported = 0;
    const progress = (fileIndex: number, fraction: number) => {
      const overall = (fileIndex + fraction) / files.length * 0.95;
      if (overall - reported < PROGRESS_STEP) return;
      reported = overall;
      void this.deps.analyses.setProgress(analysis.id, overall, attempt.id).then((moved) => {
        if (moved) this.deps.events.publish(analysis, { status: 'in_progress', progress: Math.round(overall * 100) / 100 });
      });
    };
    try {
      const views: AnalysedView[] = [];
      for (const [index, file] of files.entries()) {
        views.push(await this.analyseFile(analysis, attempt, file, workDir, (f) => progress(index, f)));
      }
      const overallScores = views.map((v) => v.detailed.aggregated_results.overall_score).filter((s): s is number => s !== null);
      const overall = overallScores.length ? Math.round(overallScores.reduce((a, b) => a + b, 0) / overallScores.length) : null;
      // The band phrase clients know, then why: the view or measures that cost the most points.
      const summary = summarizeAssessment(views.map(({ detailed }) => ({
        ...detailed.aggregated_results, view: detailed.view as View, profile: detailed.profile,
      })));
      const { userId, sessionId } = analysis;
      await this.put(attempt, objectKeys.feedback(userId, sessionId),
        Buffer.from(JSON.stringify(Object.fromEntries(views.map((v) => [v.detailed.view, v.feedback])), null, 2)),
        'application/json');
      const user = await this.deps.users.findUserById(userId);
      // The same person's last completed assessment, for the report to show the change since then.
      const previous = await this.deps.analyses.findPreviousAssessment(analysis.id);
      const pdf = await renderAnalysisReport(analysisReportInput({
        analysis, user: { name: user?.name ?? '', email: user?.email ?? '' }, summary, overallScore: overall,
        views, previous, finishedAt: new Date(),
      }));
      await this.put(attempt, objectKeys.report(userId, sessionId), pdf, 'application/pdf');
      const result = {
        summary,
        overall_score: overall,
        views: Object.fromEntries(views.map(({ detailed }) => [detailed.view, {
          file_type: detailed.file_type,
          detected_view: detailed.detected_view,
          view_confidence: detailed.view_confidence,
          score: detailed.aggregated_results.score,
          raw_scores_percent: detailed.aggregated_results.raw_scores_percent,
          measurements: detailed.aggregated_results.measurements,
          scale: detailed.scale,
          overall_posture_score: detailed.aggregated_results.overall_posture_score,
          side_detection_summary: detailed.aggregated_results.side_detection_summary,
          warnings: detailed.warnings,
        }])),
      };
      const completed = await this.deps.analyses.complete(analysis.id, result, overall, attempt.id);
      if (!completed) {
        // Deleted (or taken over) between the last heartbeat and now.
        await this.removeIfGone(analysis, attempt);
        return;
      }
      this.deps.events.publish(completed, { status: 'completed', progress: 1 });
      this.deps.log.info({ analysisId: analysis.id, views: views.length, overall }, 'analysis completed');
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async analyseFile(
    analysis: Analysis, attempt: Attempt, file: MediaFile, workDir: string, onProgress: (fraction: number) => void,
  ): Promise<AnalysedView> {
    // Decoders want a seekable file (an mp4 may keep its index at the end), so the object is copied locally.
    const local = path.join(workDir, path.basename(file.objectKey));
    const problem = await this.deps.checkMedia?.(file, attempt.signal);
    if (problem) throw new PermanentAnalysisError(`${file.view}: ${problem}`);
    const media = await this.deps.store.get(file.objectKey).catch((error: unknown) => {
      // Deleted behind the session's back (or lost): no retry brings it back.
      if (error instanceof ObjectNotFoundError) {
        throw new PermanentAnalysisError(`${file.view}: the uploaded file ${file.originalFilename} is no longer in storage`);
      }
      throw error;
    });
    await pipeline(media, createWriteStream(local), { signal: attempt.signal });
    let detailed: DetailedResult;
    try {
      detailed = await analyseViewMedia(local, {
        estimator: this.deps.estimator, model: analysis.modelName, profile: analysis.profile,
        view: file.view, frameStep: this.deps.frameStep ?? undefined, analysisFps: this.deps.analysisFps, maxFrames: this.deps.maxFrames, onProgress, signal: attempt.signal,
        subjectHeightCm: analysis.subjectHeightCm ?? undefined,
        // The upload's one choice applies to every view; null is the automatic rule.
        subject: analysis.subjectChoice ?? undefined,
      });
    } catch (error) {
      if (error instanceof MediaError) throw new PermanentAnalysisError(`${file.view}: ${error.message}`);
      throw error;
    }
    if (analysis.subjectChoice && detailed.subject.id === null) {
      // Never someone else instead: the user learns who is there, to choose again.
      const found = detailed.people.map((p) => p.id).join(', ') || 'nobody';
      throw new PermanentAnalysisError(`${file.view}: ${detailed.subject.rule}, but nobody is there in ${file.originalFilename} `
        + `(people found: ${found})`);
    }
    if (!detailed.frames_data.some((f) => f.keypoints?.some(([, , s]) => s > 0))) {
      throw new PermanentAnalysisError(`${file.view}: No person detected in ${file.originalFilename}`);
    }
    const { userId, sessionId } = analysis;
    await this.put(attempt, objectKeys.detailed(userId, sessionId, detailed.view), Buffer.from(JSON.stringify(detailed)), 'application/json');
    const overlay = await this.renderOverlay(local, detailed).catch((error: Error) => {
      this.deps.log.warn({ analysisId: analysis.id, err: error }, 'overlay could not be drawn');
      return undefined;
    });
    if (overlay) await this.put(attempt, objectKeys.overlay(userId, sessionId, detailed.view), overlay.png, 'image/png');
    const chartPng = detailed.file_type === 'video' ? await this.writeVideoResults(analysis, attempt, local, detailed) : undefined;
    const feedback = buildViewFeedback(detailed.profile, detailed.view as View, detailed.aggregated_results);
    return { detailed, feedback, overlay, chartPng };
  }

  /**
   * A video view's pictures over time: the overlay video (every analysed frame with its own skeleton and angles)
   * and the angles-over-time chart, as SVG for the API and PNG for the report (returned). Like the still overlay,
   * a picture that cannot be drawn is logged and left out; the numbers stand without it.
   */
  private async writeVideoResults(analysis: Analysis, attempt: Attempt, local: string, detailed: DetailedResult): Promise<Buffer | undefined> {
    const { userId, sessionId } = analysis;
    const video = `${local}.overlay.mp4`;
    try {
      await renderOverlayVideo(local, detailed, video, { signal: attempt.signal });
      await this.put(attempt, objectKeys.overlayVideo(userId, sessionId, detailed.view), await readFile(video), 'video/mp4');
    } catch (error) {
      if (attempt.signal.aborted) throw error;
      this.deps.log.warn({ analysisId: analysis.id, err: error }, 'overlay video could not be made');
    } finally {
      await rm(video, { force: true });
    }
    const chart = angleChartSvg(detailed);
    if (!chart) return undefined;
    await this.put(attempt, objectKeys.angleChart(userId, sessionId, detailed.view), Buffer.from(chart.svg), 'image/svg+xml');
    return chartPng(chart.svg, { width: 1000 }).catch((error: unknown) => {
      this.deps.log.warn({ analysisId: analysis.id, err: error }, 'angle chart could not be rasterised');
      return undefined;
    });
  }

  /** The overlay and the content it draws (the report captions the picture from the same content). */
  private async renderOverlay(local: string, detailed: DetailedResult): Promise<{ png: Buffer; content: OverlayContent } | undefined> {
    const content = overlayContent(detailed);
    if (!content) return undefined;
    // Grabbed at the content's own frame time, so the picture is the frame whose numbers are drawn on it.
    const picture = await grabFrame(local, detailed.file_type, content.frame.timestamp);
    return { png: await renderOverlayPng(picture, content), content };
  }
}
