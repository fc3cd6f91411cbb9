import { parseArgs } from 'node:util';
import pino from 'pino';
import { AuthService } from '../auth/auth.service.ts';
import { resolveJwtSecret } from '../auth/jwt-secret.ts';
import { argon2Hasher } from '../auth/password-hasher.ts';
import { createRevocationsRepository } from '../auth/revocations.repository.ts';
import { TokenService } from '../auth/token.service.ts';
import type { Config } from '../config/config.ts';
import { openMigratedDatabase } from '../infra/adapters.ts';
import { MemoryRateLimiter } from '../infra/rate-limit/memory-rate-limiter.ts';
import { startModelServer, type ModelServer } from '../model-server/model-server.ts';
import { postureReply } from '../model-server/posture-reply.ts';
import { DEFAULT_PUBLIC_MODELS, listModels } from '../pose/model-registry.ts';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';
import { createUsersRepository } from '../users/users.repository.ts';

/** The studio clients' historical ports; any other served model gets the next free one above them. */
export const DEFAULT_MODEL_PORTS: Readonly<Record<string, number>> = { cx: 8894, gy: 8893 };

/**
 * `postura model-server [--models cx,gy] [--port N] [--workers N]`: one WebSocket server per model, all sharing
 * one inference pool. Tokens are the API's single-use ws tokens, checked against the same database.
 */
export async function runModelServer(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { models: { type: 'string' }, port: { type: 'string' }, workers: { type: 'string' }, host: { type: 'string' } },
  });
  const models = (values.models ?? DEFAULT_PUBLIC_MODELS.join(',')).split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = models.filter((m) => !listModels().includes(m));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown model(s): ${unknown.join(', ')}. Available models: ${listModels().join(', ')}\n`);
    return 64;
  }
  if (values.port && models.length > 1) {
    process.stderr.write('--port needs exactly one model (--models NAME)\n');
    return 64;
  }
  const logger = pino({ level: config.logLevel });
  const database = await openMigratedDatabase(config);
  const auth = new AuthService({
    users: createUsersRepository(database.db),
    tokens: new TokenService({
      secret: await resolveJwtSecret(config),
      revocations: createRevocationsRepository(database.db),
      wsTokenTtlSeconds: config.auth.wsTokenTtlSeconds,
    }),
    hasher: argon2Hasher,
    limiter: new MemoryRateLimiter(),
    limits: config.auth,
  });
  const pool = createPoseWorkerPool({ models, size: values.workers ? Number(values.workers) : undefined });
  const servers: ModelServer[] = [];
  let nextPort = 8895;
  for (const model of models) {
    const port = values.port ? Number(values.port) : (DEFAULT_MODEL_PORTS[model] ?? nextPort++);
    servers.push(await startModelServer({
      estimator: pool,
      models: [model],
      port,
      host: values.host ?? config.host,
      logger,
      verifyWsToken: (token) => auth.authenticateModelClient(token),
      scoreKeypoints: (keypoints, view) => postureReply(keypoints, view),
    }));
    logger.info({ model, port }, 'model server listening');
  }

  return new Promise<number>((resolve) => {
    const stop = async () => {
      await Promise.allSettled(servers.map((s) => s.close()));
      await pool.close();
      await database.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
