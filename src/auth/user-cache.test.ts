import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DroppablePubSub } from '../infra/pubsub/droppable-pubsub.test-helper.ts';
import { MemoryPubSub } from '../infra/pubsub/memory-pubsub.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import type { User } from '../users/user.ts';
import type { UsersRepository } from '../users/users.repository.ts';
import { UserCache } from './user-cache.ts';

/** Users in a Map, counting the lookups by id that reach it (what the cache exists to avoid). */
class CountingUsers implements UsersRepository {
  readonly rows = new Map<string, User>();
  lookups = 0;
  /** Runs while a lookup is in flight (after the row was read), to interleave a change with it. */
  duringLookup: (() => Promise<void>) | null = null;

  add(): User {
    const user: User = { id: randomUUID(), email: `${randomUUID()}@example.com`, name: 'U', isAdmin: false, settings: {}, createdAt: new Date() };
    this.rows.set(user.id, user);
    return user;
  }

  async findUserById(id: string): Promise<User | null> {
    this.lookups++;
    const row = this.rows.get(id) ?? null;
    const during = this.duringLookup;
    this.duringLookup = null;
    await during?.();
    return row;
  }

  async setAdmin(id: string, isAdmin: boolean): Promise<void> {
    const row = this.rows.get(id);
    if (row) this.rows.set(id, { ...row, isAdmin });
  }

  async updatePasswordHash(): Promise<void> {}
  async insertUser(): Promise<User | null> {
    return null;
  }
  async findUserByEmail() {
    return null;
  }
  async listUsers(): Promise<User[]> {
    return [...this.rows.values()];
  }
}

async function startedCache(repository: UsersRepository, pubsub: PubSub, ttlMs = 30_000): Promise<UserCache> {
  const cache = new UserCache({ repository, pubsub, ttlMs, onError: () => {} });
  await cache.start();
  return cache;
}

describe('UserCache', () => {
  it('answers repeated lookups from memory and forgets a user the app changes, in this process and in the others', async () => {
    const repository = new CountingUsers();
    const pubsub = new MemoryPubSub();
    const [a, b] = [await startedCache(repository, pubsub), await startedCache(repository, pubsub)];
    const user = repository.add();
    for (let i = 0; i < 5; i++) expect(await a.findUserById(user.id)).toMatchObject({ id: user.id, isAdmin: false });
    expect(repository.lookups).toBe(1);
    await b.findUserById(user.id);
    expect(repository.lookups).toBe(2);

    // Promoted through process a: a forgets at once, b as soon as it hears (the memory pub/sub delivers before publish resolves).
    await a.setAdmin(user.id, true);
    expect(await a.findUserById(user.id)).toMatchObject({ isAdmin: true });
    expect(await b.findUserById(user.id)).toMatchObject({ isAdmin: true });
    expect(repository.lookups).toBe(4);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('does not keep a row read while a change to it was heard', async () => {
    const repository = new CountingUsers();
    const pubsub = new MemoryPubSub();
    const [a, b] = [await startedCache(repository, pubsub), await startedCache(repository, pubsub)];
    const user = repository.add();
    // a reads the old row; before its answer arrives, b promotes the user.
    repository.duringLookup = () => b.setAdmin(user.id, true);
    expect(await a.findUserById(user.id)).toMatchObject({ isAdmin: false });
    expect(await a.findUserById(user.id)).toMatchObject({ isAdmin: true });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('asks the database while its subscription is down, and starts afresh once it is back', async () => {
    const repository = new CountingUsers();
    const pubsub = new DroppablePubSub();
    const cache = await startedCache(repository, pubsub);
    const user = repository.add();
    await cache.findUserById(user.id);
    pubsub.setConnected(false);
    // A change this process cannot hear about (made by another process while the broker was away).
    await repository.setAdmin(user.id, true);
    expect(await cache.findUserById(user.id)).toMatchObject({ isAdmin: true });
    expect(await cache.findUserById(user.id)).toMatchObject({ isAdmin: true });
    expect(repository.lookups).toBe(3);
    pubsub.setConnected(true);
    await expect.poll(() => cache.isLive()).toBe(true);
    // Emptied on the way back (what changed meanwhile was not heard): one read, then memory again.
    await cache.findUserById(user.id);
    await cache.findUserById(user.id);
    expect(repository.lookups).toBe(4);
    await cache.stop();
  });

  it('trusts a row for its time to live at most, and never keeps an unknown id', async () => {
    const repository = new CountingUsers();
    const cache = await startedCache(repository, new MemoryPubSub(), 50);
    const user = repository.add();
    await cache.findUserById(user.id);
    repository.rows.delete(user.id);
    // Deleted behind the app's back: still served until the row's time is up, then refused.
    await expect.poll(() => cache.findUserById(user.id), { timeout: 5_000, interval: 20 }).toBeNull();
    const lookups = repository.lookups;
    await cache.findUserById(user.id);
    expect(repository.lookups).toBe(lookups + 1);
    await cache.stop();
  });
});
