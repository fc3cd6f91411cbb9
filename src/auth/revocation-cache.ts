import type { PubSub } from '../infra/pubsub/pubsub.ts';
import { FollowedChannel } from './followed-channel.ts';
import type { RevocationsRepository } from './revocations.repository.ts';

/** Carries the id of each logged-out access token to every process (their sockets close on it too). */
export const REVOKED_CHANNEL = 'auth:revoked';
const PRUNE_EVERY_MS = 60_000;

export interface RevocationCacheDeps {
  repository: RevocationsRepository;
  pubsub: PubSub;
  /** The longest an access token lives: a revocation heard without its expiry is kept that long. */
  maxTokenLifetimeMs: number;
  onError(error: unknown): void;
}

/**
 * Every authenticated request asks whether its token was logged out; asking the database each time made an
 * authenticated read ten times dearer than an anonymous one. This process keeps the ids of revoked, unexpired access
 * tokens in memory instead: loaded at start, grown by its own logouts at once and by other processes' through
 * REVOKED_CHANNEL. A logout on one process is refused on every other within the pub/sub delivery time (normally
 * milliseconds); while the subscription is down, and until it is back and reloaded, every check goes to the database,
 * so a missed message never lets a revoked token through. Single-use ws token ids stay in the database alone: their
 * burn must be one atomic statement across processes.
 */
export class RevocationCache implements RevocationsRepository {
  /** jti → when it may be forgotten (the token has expired by then). */
  private readonly revoked = new Map<string, number>();
  private readonly channel: FollowedChannel;
  private nextPruneAt = 0;

  constructor(private readonly deps: RevocationCacheDeps) {
    this.channel = new FollowedChannel({
      pubsub: deps.pubsub,
      channel: REVOKED_CHANNEL,
      onMessage: (jti) => this.remember(jti, Date.now() + deps.maxTokenLifetimeMs),
      reload: () => this.reload(),
      onError: deps.onError,
    });
  }

  start(): Promise<void> {
    return this.channel.start();
  }

  stop(): Promise<void> {
    return this.channel.stop();
  }

  /** Whether checks are answered from memory (false: from the database). */
  isLive(): boolean {
    return this.channel.isLive();
  }

  async revoke(jti: string, kind: 'access' | 'ws', expiresAt: Date): Promise<void> {
    await this.deps.repository.revoke(jti, kind, expiresAt);
    if (kind === 'access') this.remember(jti, expiresAt.getTime());
  }

  isRevoked(jti: string): Promise<boolean> {
    if (!this.channel.isLive()) return this.deps.repository.isRevoked(jti);
    return Promise.resolve(this.revoked.has(jti));
  }

  burnOnce(jti: string, expiresAt: Date): Promise<boolean> {
    return this.deps.repository.burnOnce(jti, expiresAt);
  }

  pruneExpired(now: Date): Promise<number> {
    return this.deps.repository.pruneExpired(now);
  }

  listRevokedAccess(now: Date): Promise<Array<{ jti: string; expiresAt: Date }>> {
    return this.deps.repository.listRevokedAccess(now);
  }

  /** Adds to what is known (never replaces it): a message heard while loading is as true as a loaded row. */
  private async reload(): Promise<void> {
    for (const { jti, expiresAt } of await this.deps.repository.listRevokedAccess(new Date())) {
      this.remember(jti, expiresAt.getTime());
    }
  }

  private remember(jti: string, forgetAt: number): void {
    this.revoked.set(jti, Math.max(forgetAt, this.revoked.get(jti) ?? 0));
    const now = Date.now();
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_EVERY_MS;
    for (const [id, at] of this.revoked) if (at < now) this.revoked.delete(id);
  }
}
