import { AuthService } from '../auth/auth.service.ts';
import { argon2Hasher } from '../auth/password-hasher.ts';
import { createRevocationsRepository } from '../auth/revocations.repository.ts';
import { TokenService } from '../auth/token.service.ts';
import type { Config } from '../config/config.ts';
import { isAppError } from '../errors/app-error.ts';
import { openMigratedDatabase } from '../infra/adapters.ts';
import { MemoryRateLimiter } from '../infra/rate-limit/memory-rate-limiter.ts';
import { createUsersRepository } from '../users/users.repository.ts';

/** Admins exist only through this command: no HTTP request can grant the flag. */
export async function runCreateAdmin(
  config: Config,
  input: { email?: string; password?: string; name?: string },
): Promise<number> {
  if (!input.email) {
    process.stderr.write('create-admin needs --email (and --password or POSTURA_ADMIN_PASSWORD for a new account)\n');
    return 1;
  }
  const database = await openMigratedDatabase(config);
  try {
    const auth = new AuthService({
      users: createUsersRepository(database.db),
      // Tokens are never issued here; the service needs the dependency, not a real secret.
      tokens: new TokenService({
        secret: 'unused-by-create-admin',
        revocations: createRevocationsRepository(database.db),
        wsTokenTtlSeconds: config.auth.wsTokenTtlSeconds,
      }),
      hasher: argon2Hasher,
      limiter: new MemoryRateLimiter(),
      limits: config.auth,
    });
    const { user, created } = await auth.ensureAdmin({
      email: input.email, password: input.password ?? '', name: input.name ?? '',
    });
    process.stdout.write(`${created ? 'Created' : 'Promoted'} admin ${user.email} (${user.id})\n`);
    return 0;
  } catch (error) {
    if (isAppError(error)) {
      process.stderr.write(`create-admin: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}
