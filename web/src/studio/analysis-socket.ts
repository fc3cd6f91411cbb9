// Progress of one analysis, pushed by the server over /ws/analysis: no polling. The socket takes a single-use ws
// token; if it drops before the analysis ends it is opened once more (a fresh token), and if that one drops too
// the page says so and offers a manual check instead of retrying forever.
import type { AnalysisStatus, ApiClient } from '../api.ts';

export interface AnalysisSocketHandlers {
  /** Subscribed: anything that happened before now is in GET /api/analysis/:id, so read it once. */
  onSubscribed(): void;
  onUpdate(update: { status: AnalysisStatus; progress?: number; error?: string | null }): void;
  /** Gave up after the one reconnect (or could not get a ws token). */
  onLost(reason: string): void;
}

interface AnalysisMessage {
  type: 'analysis' | 'connected';
  analysis_id?: string;
  status?: AnalysisStatus;
  progress?: number;
  error?: string | null;
}

const RECONNECTS = 1;

/** Watches analysis `id`; returns the function that stops watching (closes the socket). */
export function watchAnalysis(api: ApiClient, id: string, handlers: AnalysisSocketHandlers): () => void {
  let stopped = false;
  let reconnects = 0;
  let socket: WebSocket | null = null;

  const dropped = (reason: string) => {
    if (stopped) return;
    if (reconnects < RECONNECTS) {
      reconnects += 1;
      void open();
    } else {
      stopped = true;
      handlers.onLost(reason);
    }
  };

  async function open(): Promise<void> {
    let token: string;
    try {
      token = (await api.wsToken()).ws_token;
    } catch (error) {
      dropped((error as Error).message);
      return;
    }
    if (stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/ws/analysis?token=${encodeURIComponent(token)}`);
    socket.addEventListener('message', (event) => {
      const message = parseMessage(event.data);
      if (!message || stopped) return;
      if (message.type === 'connected') handlers.onSubscribed();
      else if (message.analysis_id === id && message.status) {
        handlers.onUpdate({ status: message.status, progress: message.progress, error: message.error });
      }
    });
    socket.addEventListener('close', (event) => dropped(event.reason || `connection closed (${event.code})`));
  }

  void open();
  return () => {
    stopped = true;
    socket?.close(1000, 'Left the page');
  };
}

function parseMessage(data: unknown): AnalysisMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed && typeof parsed === 'object' ? parsed as AnalysisMessage : null;
  } catch {
    return null;
  }
}
