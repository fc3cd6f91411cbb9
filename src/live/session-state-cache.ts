import type { SessionForEvents } from './live-sessions.repository.ts';

/**
 * What the event route knows about recent sessions, so a posted event usually costs one INSERT and no lookup.
 * Only a hint: the INSERT itself re-checks that the session is open. Entries expire after `ttlMs` so a state
 * change made by another process (pause, a new calibration) is seen within that time; this process forgets a
 * session as soon as it changes it.
 */
export class SessionStateCache {
  private readonly entries = new Map<string, { state: SessionForEvents; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(sessionId: string): SessionForEvents | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return entry.state;
  }

  set(state: SessionForEvents): void {
    this.entries.delete(state.id);
    this.entries.set(state.id, { state, expiresAt: this.now() + this.ttlMs });
    // Maps iterate in insertion order: the first keys are the oldest entries.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }

  forget(sessionId: string): void {
    this.entries.delete(sessionId);
  }

  /** A new calibration changes the labels of every session of that user. */
  forgetUser(userId: string): void {
    for (const [key, entry] of this.entries) if (entry.state.userId === userId) this.entries.delete(key);
  }
}
