import type { AnalysesRepository, Analysis } from '../analysis/analyses.repository.ts';
import { errors } from '../errors/app-error.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import type { ObjectStore } from '../infra/object-store/object-store.ts';

/**
 * Removing media sessions. The row goes first (so no worker can claim it any more and the session id is free),
 * then the objects; objects left by a crash between the two are only orphans under a prefix nobody lists.
 */
export class MediaSessionsService {
  constructor(private readonly deps: { analyses: AnalysesRepository; store: ObjectStore }) {}

  async deleteSession(userId: string, sessionId: string): Promise<string[]> {
    const analysis = await this.deps.analyses.findBySession(userId, sessionId);
    if (!analysis) throw errors.notFound('Session');
    return this.deleteAnalysis(analysis);
  }

  async deleteAnalysis(analysis: Analysis): Promise<string[]> {
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    await this.deps.analyses.delete(analysis.id);
    await this.deps.store.deletePrefix(objectKeys.sessionMediaPrefix(analysis.userId, analysis.sessionId));
    await this.deps.store.deletePrefix(objectKeys.resultsPrefix(analysis.userId, analysis.sessionId));
    return files.map((f) => f.objectKey.split('/').at(-1)!);
  }

  /** One file of a session, by its stored name (`cx_front.mp4`) or the name it was uploaded with. */
  async deleteFile(userId: string, sessionId: string, filename: string): Promise<string[]> {
    const analysis = await this.deps.analyses.findBySession(userId, sessionId);
    if (!analysis) throw errors.notFound('Session');
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    const file = files.find((f) => f.objectKey.split('/').at(-1) === filename || f.originalFilename === filename);
    if (!file) throw errors.notFound('File');
    await this.deps.analyses.removeMediaFile(analysis.id, file.view);
    await this.deps.store.delete(file.objectKey);
    if (files.length === 1) {
      // The last file gone: the session is gone too, and its id can be used again.
      await this.deleteAnalysis(analysis);
    }
    return [file.objectKey.split('/').at(-1)!];
  }
}
