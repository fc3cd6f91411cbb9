import type { FastifyInstance } from 'fastify';
import { bearer } from './factories.ts';

/** Polls an analysis until it reaches one of `statuses` (never sleeps a fixed time and hopes). */
export async function waitForAnalysis(
  app: FastifyInstance, token: string, id: string, statuses: string[] = ['completed', 'failed'], timeoutMs = 150_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await app.inject({ url: `/api/analysis/${id}`, headers: bearer(token) });
    const body = response.json() as Record<string, unknown>;
    if (statuses.includes(body.status as string)) return body;
    if (Date.now() > deadline) throw new Error(`analysis ${id} still ${String(body.status)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
