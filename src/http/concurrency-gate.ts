/**
 * Counts work in flight per key and in all, refusing a start beyond either bound. Process-local: each API process
 * bounds itself, which is what protects its own memory, file handles and child processes.
 */
export class ConcurrencyGate {
  private readonly perKey = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: { perKey: number; total: number }) {}

  /** A release function when there is room (call it exactly once, when the work ends), else null. */
  tryAcquire(key: string): (() => void) | null {
    const held = this.perKey.get(key) ?? 0;
    if (held >= this.limits.perKey || this.total >= this.limits.total) return null;
    this.perKey.set(key, held + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perKey.get(key) ?? 1) - 1;
      // Keys leave the map when idle, so it never grows with the number of users seen.
      if (left === 0) this.perKey.delete(key);
      else this.perKey.set(key, left);
    };
  }
}
