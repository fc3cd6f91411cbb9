// The server-computed angle and label of each posture event reach the page over the /ws/posture/ feed: the event
// route answers only how many events it stored. The feed carries all of the user's sessions; the page keeps the
// current one's. A dropped socket reconnects with a fresh single-use token; a refused sign-in does not retry.
import type { StoredPostureEvent } from './live-api.ts';
import { readApiError } from './live-api.ts';

export type FeedState = 'connecting' | 'open' | 'reconnecting' | 'expired' | 'failed';

export interface PostureFeedDeps {
  wsToken(): Promise<string>;
  onEvent(event: StoredPostureEvent): void;
  onState(state: FeedState): void;
}

/** Close codes after which reconnecting cannot help (docs/live-api.md, "WebSocket close codes"). */
const SIGNED_OUT = new Set([4001, 4003, 4005, 4006]);
const TOO_MANY_SOCKETS = 4009;
const MAX_BACKOFF_MS = 10_000;

export function openPostureFeed(deps: PostureFeedDeps): { close(): void } {
  let socket: WebSocket | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let attempts = 0;
  let closed = false;

  const retry = () => {
    if (closed) return;
    deps.onState('reconnecting');
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts);
    attempts += 1;
    retryTimer = setTimeout(connect, delay);
  };

  async function connect(): Promise<void> {
    deps.onState(attempts === 0 ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await deps.wsToken();
    } catch (error) {
      if (readApiError(error).status === 401) deps.onState('expired');
      else retry();
      return;
    }
    if (closed) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/ws/posture/?token=${encodeURIComponent(token)}`);
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(String(message.data)) as
        | { type: 'history'; events: StoredPostureEvent[] }
        | { type: 'posture'; event: StoredPostureEvent }
        | { ack: true };
      if (!('type' in data)) return;
      if (data.type === 'history') {
        attempts = 0;
        deps.onState('open');
        data.events.forEach(deps.onEvent);
      } else {
        deps.onEvent(data.event);
      }
    });
    socket.addEventListener('close', (event) => {
      socket = null;
      if (closed) return;
      if (SIGNED_OUT.has(event.code)) deps.onState('expired');
      else if (event.code === TOO_MANY_SOCKETS) deps.onState('failed');
      else retry();
    });
  }

  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      socket?.close(1000, 'Live page closed');
    },
  };
}
