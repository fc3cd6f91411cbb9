import { randomUUID } from 'node:crypto';
import type { AuthConfig } from '../config/config.ts';
import { errors } from '../errors/app-error.ts';
import type { RateLimitDecision, RateLimiter } from '../infra/rate-limit/rate-limiter.ts';
import { emailAddressProblem, normalizeEmail, type User } from '../users/user.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import type { PasswordHasher } from './password-hasher.ts';
import {
  SERVICE_SUBJECT, type IssuedToken, type TokenFamily, type TokenService, type VerifiedToken,
} from './token.service.ts';

export const MIN_PASSWORD_LENGTH = 8;
/** Argon2 cost grows with input; a cap keeps a megabyte "password" from being a cheap denial of service. */
export const MAX_PASSWORD_LENGTH = 1024;
const MAX_EMAIL_LENGTH = 254;
const MAX_NAME_LENGTH = 200;
// Pragmatic shape check: one @, a dot in the domain, no spaces. Deliverability is not the server's to prove.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface AuthServiceDeps {
  users: UsersRepository;
  tokens: TokenService;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  limits: Pick<AuthConfig, 'ipAttempts' | 'emailAttempts' | 'ipAttemptCeiling' | 'attemptWindowSeconds'>;
  /** Told after a logout stored its revocation, so open WebSockets of that token close (it must not throw). */
  onRevoked?: (token: VerifiedToken) => Promise<void>;
}

interface FailureBudget {
  key: string;
  limit: number;
  windowMs: number;
}

export interface Registration {
  email: string;
  name: string;
  password: string;
  settings?: Record<string, unknown>;
}

export interface Session {
  user: User;
  token: IssuedToken;
}

export class AuthService {
  /** Verified against when the email is unknown, so a miss costs the same time as a wrong password. */
  private decoyHash: Promise<string> | null = null;

  constructor(private readonly deps: AuthServiceDeps) {}

  async register(input: Registration, clientIp: string): Promise<User> {
    const email = normalizeEmail(input.email);
    await this.countAttempt(clientIp);
    await this.assertFailuresLeft(this.failureBudgets(clientIp, email));
    assertValidEmail(email);
    const name = input.name.trim();
    if (!name) throw errors.missingFields();
    if (name.length > MAX_NAME_LENGTH) throw errors.invalidRequest(`Name must be at most ${MAX_NAME_LENGTH} characters`);
    assertValidPassword(input.password);
    const user = await this.deps.users.insertUser({
      id: randomUUID(),
      email,
      name,
      passwordHash: await this.deps.hasher.hash(input.password),
      settings: input.settings ?? {},
    });
    if (!user) {
      // A taken email is what probing for accounts looks like; a typo in a password is not, so only this counts.
      await this.chargeFailure(this.failureBudgets(clientIp, email));
      throw errors.emailTaken();
    }
    return user;
  }

  /** Checks credentials and issues an access token of the family that asked, living that family's `ttlSeconds`. */
  async login(
    credentials: { email: string; password: string }, clientIp: string, issue: { family: TokenFamily; ttlSeconds: number },
  ): Promise<Session> {
    const email = normalizeEmail(credentials.email);
    await this.countAttempt(clientIp);
    const [ipBudget, emailBudget] = this.failureBudgets(clientIp, email);
    await this.assertFailuresLeft([ipBudget]);
    // The one budget taken before the outcome is known: atomically, so a burst of parallel guesses at one account
    // gets exactly its failures and no more. The right password gives it back, with the email's earlier failures.
    assertAllowed(await this.deps.limiter.consume(emailBudget.key, emailBudget));
    const found = await this.deps.users.findUserByEmail(email);
    const valid = found
      ? await this.deps.hasher.verify(found.passwordHash, credentials.password)
      : (await this.deps.hasher.verify(await this.getDecoyHash(), credentials.password), false);
    if (!found || !valid) {
      await this.chargeFailure([ipBudget]);
      throw errors.invalidCredentials();
    }
    await this.deps.limiter.reset(emailBudget.key);
    const { passwordHash: _omitted, ...user } = found;
    return { user, token: await this.deps.tokens.issueAccessToken(user.id, issue.ttlSeconds, issue.family) };
  }

  /** Resolves an access token to its user; a token of a deleted user is as good as none. */
  async authenticate(token: string): Promise<{ user: User; token: VerifiedToken }> {
    const verified = await this.deps.tokens.verifyAccessToken(token);
    const user = await this.deps.users.findUserById(verified.userId);
    if (!user) throw errors.invalidToken('User no longer exists');
    return { user, token: verified };
  }

  async logout(token: VerifiedToken): Promise<void> {
    await this.deps.tokens.revoke(token);
    await this.deps.onRevoked?.(token);
  }

  issueAccessToken(userId: string, ttlSeconds: number, family: TokenFamily): Promise<IssuedToken> {
    return this.deps.tokens.issueAccessToken(userId, ttlSeconds, family);
  }

  issueWsToken(userId: string, parentJti?: string, parentExpiresAt?: Date): Promise<IssuedToken> {
    return this.deps.tokens.issueWsToken(userId, parentJti, parentExpiresAt);
  }

  /**
   * For the model server: a user's ws token, or one the API issued to itself for remote inference. Either works
   * once; the service identity is only ever accepted here.
   */
  async authenticateModelClient(token: string): Promise<{ userId: string }> {
    const verified = await this.deps.tokens.consumeWsToken(token);
    if (verified.userId === SERVICE_SUBJECT) return { userId: SERVICE_SUBJECT };
    const user = await this.deps.users.findUserById(verified.userId);
    if (!user) throw errors.invalidToken('User no longer exists');
    return { userId: user.id };
  }

  /** For WebSocket endpoints: a ws token, once. */
  async authenticateWsToken(token: string): Promise<User> {
    return (await this.authenticateWsSession(token)).user;
  }

  /** As authenticateWsToken, with the verified token (its parent's id and expiry end the socket's life). */
  async authenticateWsSession(token: string): Promise<{ user: User; token: VerifiedToken }> {
    const verified = await this.deps.tokens.consumeWsToken(token);
    const user = await this.deps.users.findUserById(verified.userId);
    if (!user) throw errors.invalidToken('User no longer exists');
    return { user, token: verified };
  }

  /** Creates an admin, or promotes an existing account (CLI only: no HTTP route can make an admin). */
  async ensureAdmin(input: Registration): Promise<{ user: User; created: boolean }> {
    const email = normalizeEmail(input.email);
    assertValidEmail(email);
    const existing = await this.deps.users.findUserByEmail(email);
    if (existing) {
      await this.deps.users.setAdmin(existing.id, true);
      if (input.password) {
        assertValidPassword(input.password);
        await this.deps.users.updatePasswordHash(existing.id, await this.deps.hasher.hash(input.password));
      }
      const { passwordHash: _omitted, ...user } = existing;
      return { user: { ...user, isAdmin: true }, created: false };
    }
    assertValidPassword(input.password);
    const user = await this.deps.users.insertUser({
      id: randomUUID(),
      email,
      name: input.name.trim() || email,
      passwordHash: await this.deps.hasher.hash(input.password),
      isAdmin: true,
    });
    if (!user) throw errors.emailTaken();
    return { user, created: true };
  }

  /** Every attempt, success or not, spends the IP's ceiling. */
  private async countAttempt(clientIp: string): Promise<void> {
    const { ipAttemptCeiling, attemptWindowSeconds } = this.deps.limits;
    const options = { limit: ipAttemptCeiling, windowMs: attemptWindowSeconds * 1000 };
    assertAllowed(await this.deps.limiter.consume(`auth:attempts:ip:${clientIp}`, options));
  }

  private failureBudgets(clientIp: string, email: string): [FailureBudget, FailureBudget] {
    const { ipAttempts, emailAttempts, attemptWindowSeconds } = this.deps.limits;
    const windowMs = attemptWindowSeconds * 1000;
    return [
      { key: `auth:failures:ip:${clientIp}`, limit: ipAttempts, windowMs },
      { key: `auth:failures:email:${email}`, limit: emailAttempts, windowMs },
    ];
  }

  /**
   * Failures are looked at before an attempt and charged after it fails, so successes never spend them: logins
   * racing from one NAT are not refused for each other's successes. What a race of failures can gain over the
   * budget is bounded by the ceiling.
   */
  private async assertFailuresLeft(budgets: readonly FailureBudget[]): Promise<void> {
    for (const budget of budgets) assertAllowed(await this.deps.limiter.peek(budget.key, budget));
  }

  private async chargeFailure(budgets: readonly FailureBudget[]): Promise<void> {
    for (const budget of budgets) await this.deps.limiter.consume(budget.key, budget);
  }

  private getDecoyHash(): Promise<string> {
    this.decoyHash ??= this.deps.hasher.hash(randomUUID());
    return this.decoyHash;
  }
}

function assertAllowed(decision: RateLimitDecision): void {
  if (!decision.allowed) {
    throw errors.rateLimited(Math.ceil(decision.retryAfterMs / 1000), 'Too many attempts, try again later');
  }
}

/** `email` is normalised: look-alike spellings were folded there, and what cannot be folded is refused here. */
function assertValidEmail(email: string): void {
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email)) throw errors.invalidRequest('Invalid email address');
  const problem = emailAddressProblem(email);
  if (problem) throw errors.invalidRequest(`Invalid email address: ${problem}`);
}

function assertValidPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw errors.invalidRequest(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw errors.invalidRequest(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}
