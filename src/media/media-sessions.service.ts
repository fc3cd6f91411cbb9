import type { AnalysesRepository, Analysis, MediaFile } from '../analysis/analyses.repository.ts';
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
    return files.map(storedName);
  }

  /** One file of a session, by its stored name (`cx_front.mp4`) or the name it was uploaded with. */
  async deleteFile(userId: string, sessionId: string, filename: string): Promise<string[]> {
    const analysis = await this.deps.analyses.findBySession(userId, sessionId);
    if (!analysis) throw errors.notFound('Session');
    const files = await this.deps.analyses.mediaFiles(analysis.id);
    const file = files.find((f) => storedName(f) === filename || f.originalFilename === filename);
    if (!file) throw errors.notFound('File');
    return this.removeFile(analysis, file, files.length);
  }

  /**
   * One file found by its stored name alone, as the documented clients ask. Unlike a delete with session_id, the
   * name the file was uploaded with does not count: that would make far more requests ambiguous.
   */
  async deleteFileByName(userId: string, filename: string): Promise<{ sessionId: string; deleted: string[] }> {
    const found = await this.deps.analyses.findMediaFilesByStoredName(userId, filename);
    if (found.length === 0) throw errors.notFound('File');
    if (found.length > 1) {
      const sessionIds = [...new Set(found.map((f) => f.sessionId))];
      throw errors.conflict(`Several of your sessions have a file named ${filename}: add session_id to say which one`, {
        session_ids: sessionIds,
      });
    }
    const file = found[0]!;
    const analysis = await this.deps.analyses.findById(file.analysisId);
    if (!analysis) throw errors.notFound('File'); // deleted meanwhile
    const filesInSession = (await this.deps.analyses.mediaFiles(analysis.id)).length;
    return { sessionId: analysis.sessionId, deleted: await this.removeFile(analysis, file, filesInSession) };
  }

  private async removeFile(analysis: Analysis, file: MediaFile, filesInSession: number): Promise<string[]> {
    await this.deps.analyses.removeMediaFile(analysis.id, file.view);
    await this.deps.store.delete(file.objectKey);
    if (filesInSession === 1) {
      // The last file gone: the session is gone too, and its id can be used again.
      await this.deleteAnalysis(analysis);
    }
    return [storedName(file)];
  }
}

function storedName(file: MediaFile): string {
  return file.objectKey.split('/').at(-1)!;
}
