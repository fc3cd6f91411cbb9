import { randomUUID } from 'node:crypto';
import { errors } from '../errors/app-error.ts';
import type { RateLimiter } from '../infra/rate-limit/rate-limiter.ts';
import { normalizeEmail, type User } from '../users/user.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import type { PasswordHasher } from './password-hasher.ts';
import { SERVICE_SUBJECT, type IssuedToken, type TokenService, type VerifiedToken } from './token.service.ts';

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
  limits: { ipAttempts: number; emailAttempts: number; attemptWindowSeconds: number };
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
    await this.assertAttemptAllowed(clientIp, email);
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
    if (!user) throw errors.emailTaken();
    return user;
  }

  /** Checks credentials and issues an access token living `ttlSeconds` (each client family has its own default). */
  async login(credentials: { email: string; password: string }, clientIp: string, ttlSeconds: number): Promise<Session> {
    const email = normalizeEmail(credentials.email);
    await this.assertAttemptAllowed(clientIp, email);
    const found = await this.deps.users.findUserByEmail(email);
    const valid = found
      ? await this.deps.hasher.verify(found.passwordHash, credentials.password)
      : (await this.deps.hasher.verify(await this.getDecoyHash(), credentials.password), false);
    if (!found || !valid) throw errors.invalidCredentials();
    const { passwordHash: _omitted, ...user } = found;
    return { user, token: await this.deps.tokens.issueAccessToken(user.id, ttlSeconds) };
  }

  /** Resolves an access token to its user; a token of a deleted user is as good as none. */
  async authenticate(token: string): Promise<{ user: User; token: VerifiedToken }> {
    const verified = await this.deps.tokens.verifyAccessToken(token);
    const user = await this.deps.users.findUserById(verified.userId);
    if (!user) throw errors.invalidToken('User no longer exists');
    return { user, token: verified };
  }

  logout(token: VerifiedToken): Promise<void> {
    return this.deps.tokens.revoke(token);
  }

  issueAccessToken(userId: string, ttlSeconds: number): Promise<IssuedToken> {
    return this.deps.tokens.issueAccessToken(userId, ttlSeconds);
  }

  issueWsToken(userId: string, parentJti?: string): Promise<IssuedToken> {
    return this.deps.tokens.issueWsToken(userId, parentJti);
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
    const verified = await this.deps.tokens.consumeWsToken(token);
    const user = await this.deps.users.findUserById(verified.userId);
    if (!user) throw errors.invalidToken('User no longer exists');
    return user;
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

  private async assertAttemptAllowed(clientIp: string, email: string): Promise<void> {
    const { ipAttempts, emailAttempts, attemptWindowSeconds } = this.deps.limits;
    const windowMs = attemptWindowSeconds * 1000;
    for (const [key, limit] of [[`auth:ip:${clientIp}`, ipAttempts], [`auth:email:${email}`, emailAttempts]] as const) {
      const decision = await this.deps.limiter.consume(key, { limit, windowMs });
      if (!decision.allowed) {
        throw errors.rateLimited(Math.ceil(decision.retryAfterMs / 1000), 'Too many attempts, try again later');
      }
    }
  }

  private getDecoyHash(): Promise<string> {
    this.decoyHash ??= this.deps.hasher.hash(randomUUID());
    return this.decoyHash;
  }
}

function assertValidEmail(email: string): void {
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email)) throw errors.invalidRequest('Invalid email address');
}

function assertValidPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw errors.invalidRequest(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw errors.invalidRequest(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}
