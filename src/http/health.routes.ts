import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

/** Named readiness probes (database, object store, models...); each throws when its dependency is not usable. */
export type ReadinessChecks = Record<string, () => Promise<void>>;

const CHECK_TIMEOUT_MS = 2_000;

export async function healthRoutes(fastify: FastifyInstance, deps: { checks: ReadinessChecks }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get('/api/health', {
    schema: {
      tags: ['operations'], summary: 'Liveness: the process answers',
      response: { 200: Type.Object({ status: Type.Literal('healthy') }) },
    },
  }, async () => ({ status: 'healthy' as const }));

  const readyBody = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
    checks: Type.Record(Type.String(), Type.String()),
  });
  app.get('/api/ready', {
    schema: {
      tags: ['operations'], summary: 'Readiness: every dependency answers',
      response: { 200: readyBody, 503: readyBody },
    },
  }, async (request, reply) => {
    const results = await Promise.all(Object.entries(deps.checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), CHECK_TIMEOUT_MS);
        return [name, 'ok'] as const;
      } catch (error) {
        // The reason goes to the log, not to anonymous callers: a driver's message can name internal hosts.
        request.log.warn({ err: error, check: name }, 'readiness check failed');
        return [name, 'failed'] as const;
      }
    }));
    const ready = results.every(([, result]) => result === 'ok');
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results),
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
