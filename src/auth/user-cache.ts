import { LRUCache } from 'lru-cache';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import type { User } from '../users/user.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import { FollowedChannel } from './followed-channel.ts';

/** Carries the id of each user whose row changed (admin flag, password) to every process. */
export const USER_CHANGED_CHANNEL = 'auth:user-changed';

export interface UserCacheDeps {
  repository: UsersRepository;
  pubsub: PubSub;
  /** How long a user row is trusted without asking again: the bound for changes made outside this app (SQL). */
  ttlMs: number;
  /** Users kept at most (least recently used go first). */
  max?: number;
  onError(error: unknown): void;
}

/**
 * Every authenticated request needs its user; reading the row each time was half of an authenticated request's
 * database work. This keeps recently seen users in memory (LRU, `max` users, `ttlMs` each). The app's own changes to
 * a user (admin flag, password) forget the row here at once and in every other process through USER_CHANGED_CHANNEL;
 * while that subscription is down (and until it is back and the cache emptied) every lookup goes to the database, so
 * a missed message never serves a stale user. A row changed or deleted behind the app's back (SQL) is seen within
 * `ttlMs`. Only found users are kept: an unknown id is asked again each time.
 */
export class UserCache implements UsersRepository {
  private readonly users: LRUCache<string, User>;
  private readonly channel: FollowedChannel;
  /** Bumped by every change heard, so a row read while one arrived is not kept. */
  private changes = 0;

  constructor(private readonly deps: UserCacheDeps) {
    this.users = new LRUCache<string, User>({
      max: deps.max ?? 10_000, ttl: Math.max(1, deps.ttlMs),
      // The monotonic clock, read on every lookup (no 1 ms reuse; a test's fake clock reaches it).
      perf: { now: () => performance.now() }, ttlResolution: 0,
    });
    this.channel = new FollowedChannel({
      pubsub: deps.pubsub,
      channel: USER_CHANGED_CHANNEL,
      onMessage: (id) => this.forget(id),
      // Whatever changed while the subscription was down was not heard: start again from the database.
      reload: async () => {
        this.changes++;
        this.users.clear();
      },
      onError: deps.onError,
    });
  }

  start(): Promise<void> {
    return this.channel.start();
  }

  stop(): Promise<void> {
    return this.channel.stop();
  }

  /** Whether lookups are answered from memory (false: from the database). */
  isLive(): boolean {
    return this.deps.ttlMs > 0 && this.channel.isLive();
  }

  async findUserById(id: string): Promise<User | null> {
    if (!this.isLive()) return this.deps.repository.findUserById(id);
    const known = this.users.get(id);
    if (known) return known;
    const before = this.changes;
    const user = await this.deps.repository.findUserById(id);
    // A change heard while the row was being read may be newer than the row: then it is not kept.
    if (user && before === this.changes && this.channel.isLive()) this.users.set(id, user);
    return user;
  }

  insertUser: UsersRepository['insertUser'] = (user) => this.deps.repository.insertUser(user);
  findUserByEmail: UsersRepository['findUserByEmail'] = (email) => this.deps.repository.findUserByEmail(email);
  listUsers: UsersRepository['listUsers'] = (options) => this.deps.repository.listUsers(options);

  async setAdmin(id: string, isAdmin: boolean): Promise<void> {
    await this.deps.repository.setAdmin(id, isAdmin);
    await this.changed(id);
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.deps.repository.updatePasswordHash(id, passwordHash);
    await this.changed(id);
  }

  /** Forgets `id` here at once and in the other processes as soon as they hear it. */
  private async changed(id: string): Promise<void> {
    this.forget(id);
    try {
      await this.deps.pubsub.publish(USER_CHANGED_CHANNEL, id);
    } catch (error) {
      // The others then see the change within ttlMs, the bound stated for changes they do not hear of.
      this.deps.onError(error);
    }
  }

  private forget(id: string): void {
    this.changes++;
    this.users.delete(id);
  }
}
