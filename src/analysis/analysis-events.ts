import type { PubSub } from '../infra/pubsub/pubsub.ts';
import type { Analysis } from './analyses.repository.ts';

export interface AnalysisUpdate {
  status: Analysis['status'];
  progress?: number;
  error?: string | null;
}

/** Wire message on /ws/analysis: one per status change or progress step of one of the user's analyses. */
export interface AnalysisEventMessage extends AnalysisUpdate {
  type: 'analysis';
  analysis_id: string;
  session_id: string;
}

export const analysisChannel = (userId: string) => `analysis:${userId}`;

/**
 * Status and progress pushed to the owner's sockets on any API process (through the shared pub/sub). Delivery is
 * best effort: clients that miss one can always poll GET /api/analysis/:id.
 */
export class AnalysisEvents {
  constructor(private readonly pubsub: PubSub, private readonly onError: (error: unknown) => void) {}

  publish(analysis: Pick<Analysis, 'id' | 'userId' | 'sessionId'>, update: AnalysisUpdate): void {
    const message: AnalysisEventMessage = { type: 'analysis', analysis_id: analysis.id, session_id: analysis.sessionId, ...update };
    this.pubsub.publish(analysisChannel(analysis.userId), JSON.stringify(message)).catch(this.onError);
  }
}
