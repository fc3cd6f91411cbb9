import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { grabFrame } from '../pose/frame-grab.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import { ObjectNotFoundError, type ObjectStore } from '../infra/object-store/object-store.ts';
import type { JobContext } from '../infra/queue/job-queue.ts';
import { renderOverlayPng } from '../overlay/overlay.ts';
import { overlayContent, type OverlayContent } from '../overlay/overlay-content.ts';
import { MediaError } from '../pose/analyze-media.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { buildViewFeedback, summarizeScore, type ViewFeedback } from '../posture/index.ts';
import type { View } from '../posture/profile.ts';
import { renderAnalysisReport, type ReportView } from '../report/pdf-report.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import type { AnalysesRepository, Analysis, MediaFile } from './analyses.repository.ts';
import { reportViewOf } from './analysis-report.ts';
import type { AnalysisEvents } from './analysis-events.ts';
import { analyseViewMedia, type DetailedResult } from './view-analysis.ts';

export interface AnalysisRunnerDeps {
  analyses: AnalysesRepository;
  users: UsersRepository;
  store: ObjectStore;
  estimator: PoseEstimator;
  events: AnalysisEvents;
  frameStep: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** A failure that another attempt cannot fix (unreadable media, nobody in the picture): no retry. */
class PermanentAnalysisError extends Error {}

/** Progress is written at most this often, so a long video does not turn into a stream of UPDATEs. */
const PROGRESS_STEP = 0.05;

/**
 * The analyse-session job: claim the analysis, analyse every view, write the results (detailed JSON, overlays,
 * feedback, PDF) under analysis-data/, then complete it. Transient failures throw so the queue retries with
 * backoff; on the last attempt, or for a permanent failure, the analysis is marked failed with a readable reason.
 */
export class AnalysisRunner {
  constructor(private readonly deps: AnalysisRunnerDeps) {}

  async run(job: JobContext<'analyse-session'>): Promise<void> {
    const analysis = await this.deps.analyses.claim(job.data.analysisId);
    if (!analysis) return; // finished, retried under a new job, or deleted: nothing to do
    this.deps.events.publish(analysis, { status: 'in_progress', progress: 0 });
    try {
      await this.analyse(analysis);
    } catch (error) {
      const message = (error as Error).message;
      const permanent = error instanceof PermanentAnalysisError;
      this.deps.log.warn({ analysisId: analysis.id, attempt: job.retryCount + 1, permanent, err: error }, 'analysis attempt failed');
      if (permanent || job.isLastAttempt) {
        const failed = await this.deps.analyses.fail(analysis.id, message);
        if (failed) this.deps.events.publish(failed, { status: 'failed', error: message });
        // The row says why; the job is done. Throwing would also dead-letter it, and the dead letter's handler
        // would then fail a run the user had started again in the meantime (a retry resets the row to pending).
        return;
      }
      throw error;
    }
  }

  /** Dead letters: every attempt failed or the worker died on the last one. The analysis must not stay in progress. */
  async bury(job: JobContext<'analyse-session-dead'>): Promise<void> {
    const failed = await this.deps.analyses.fail(job.data.analysisId, 'Analysis did not finish: every attempt failed or timed out');
    if (failed) this.deps.events.publish(failed, { status: 'failed', error: failed.error });
  }

  private async analyse(analysis: Analysis): Promise<void> {
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    if (files.length === 0) throw new PermanentAnalysisError('The session has no media files');
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'postura-analysis-'));
    let reported = 0;
    const progress = (fileIndex: number, fraction: number) => {
      const overall = (fileIndex + fraction) / files.length * 0.95;
      if (overall - reported < PROGRESS_STEP) return;
      reported = overall;
      void this.deps.analyses.setProgress(analysis.id, overall).then((moved) => {
        if (moved) this.deps.events.publish(analysis, { status: 'in_progress', progress: Math.round(overall * 100) / 100 });
      });
    };
    try {
      const views: Array<{ detailed: DetailedResult; feedback: ViewFeedback; report: ReportView }> = [];
      for (const [index, file] of files.entries()) {
        views.push(await this.analyseFile(analysis, file, workDir, (f) => progress(index, f)));
      }
      const overallScores = views.map((v) => v.detailed.aggregated_results.overall_score).filter((s): s is number => s !== null);
      const overall = overallScores.length ? Math.round(overallScores.reduce((a, b) => a + b, 0) / overallScores.length) : null;
      const summary = summarizeScore(overall);
      const { userId, sessionId } = analysis;
      await this.deps.store.putBuffer(objectKeys.feedback(userId, sessionId),
        Buffer.from(JSON.stringify(Object.fromEntries(views.map((v) => [v.detailed.view, v.feedback])), null, 2)),
        { contentType: 'application/json' });
      const user = await this.deps.users.findUserById(userId);
      const pdf = await renderAnalysisReport({
        analysis: { id: analysis.id, session_id: sessionId, model_name: analysis.modelName, profile: analysis.profile,
          created_at: analysis.createdAt, finished_at: new Date() },
        user: { name: user?.name ?? '', email: user?.email ?? '' },
        summary,
        views: views.map((v) => v.report),
      });
      await this.deps.store.putBuffer(objectKeys.report(userId, sessionId), pdf, { contentType: 'application/pdf' });
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
      const completed = await this.deps.analyses.complete(analysis.id, result, overall);
      if (completed) this.deps.events.publish(completed, { status: 'completed', progress: 1 });
      this.deps.log.info({ analysisId: analysis.id, views: views.length, overall }, 'analysis completed');
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async analyseFile(analysis: Analysis, file: MediaFile, workDir: string, onProgress: (fraction: number) => void) {
    // Decoders want a seekable file (an mp4 may keep its index at the end), so the object is copied locally.
    const local = path.join(workDir, path.basename(file.objectKey));
    const media = await this.deps.store.get(file.objectKey).catch((error: unknown) => {
      // Deleted behind the session's back (or lost): no retry brings it back.
      if (error instanceof ObjectNotFoundError) {
        throw new PermanentAnalysisError(`${file.view}: the uploaded file ${file.originalFilename} is no longer in storage`);
      }
      throw error;
    });
    await pipeline(media, createWriteStream(local));
    let detailed: DetailedResult;
    try {
      detailed = await analyseViewMedia(local, {
        estimator: this.deps.estimator, model: analysis.modelName, profile: analysis.profile,
        view: file.view, frameStep: this.deps.frameStep, onProgress,
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
    await this.deps.store.putBuffer(objectKeys.detailed(userId, sessionId, detailed.view),
      Buffer.from(JSON.stringify(detailed)), { contentType: 'application/json' });
    const overlay = await this.renderOverlay(local, detailed).catch((error: Error) => {
      this.deps.log.warn({ analysisId: analysis.id, err: error }, 'overlay could not be drawn');
      return undefined;
    });
    if (overlay) await this.deps.store.putBuffer(objectKeys.overlay(userId, sessionId, detailed.view), overlay.png, { contentType: 'image/png' });
    const feedback = buildViewFeedback(detailed.profile, detailed.view as View, detailed.aggregated_results);
    return { detailed, feedback, report: reportViewOf(detailed, feedback, overlay) };
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
