import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { bearer } from '../../test/helpers/factories.ts';
import { AppError } from '../errors/app-error.ts';

/** Upright keypoints (hips straight below the shoulders), with a nose; shift the hips to tilt the spine. */
export function uprightKeypoints(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nose: { x: 100, y: 40, confidence: 0.9 },
    left_shoulder: { x: 80, y: 100, confidence: 0.9 },
    right_shoulder: { x: 120, y: 100, confidence: 0.9 },
    left_hip: { x: 85, y: 200, confidence: 0.9 },
    right_hip: { x: 115, y: 200, confidence: 0.9 },
    ...overrides,
  };
}

/** The message of the AppError `run` throws; fails when it throws nothing. */
export function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

export async function startSession(app: FastifyInstance, token?: string, deviceId?: string): Promise<string> {
  const response = await app.inject({
    method: 'POST', url: '/api/sessions/start/', headers: token ? bearer(token) : {},
    payload: deviceId ? { device_id: deviceId } : {},
  });
  if (response.statusCode !== 201) throw new Error(`start failed: ${response.statusCode} ${response.body}`);
  return response.json().session_id as string;
}

export function postEvents(app: FastifyInstance, sessionId: string, payload: unknown) {
  return app.inject({
    method: 'POST', url: `/api/sessions/${sessionId}/event/`, payload: JSON.stringify(payload),
    headers: { 'content-type': 'application/json' },
  });
}

/** A WebSocket client that records every message, with a helper to wait for the next matching one. */
export class SocketProbe {
  readonly messages: Array<Record<string, unknown>> = [];
  private waiters: Array<{ test: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      this.messages.push(message);
      this.waiters = this.waiters.filter((w) => (w.test(message) ? (w.resolve(message), false) : true));
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  }

  static connect(baseUrl: string, token?: string): SocketProbe {
    const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
    return new SocketProbe(new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/posture/${query}`));
  }

  /** The first message (already received or coming) that passes `test`; fails after `timeoutMs`. */
  next(test: (m: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  close(): void {
    this.socket.close();
  }
}

export const isType = (type: string) => (m: Record<string, unknown>) => m.type === type;
